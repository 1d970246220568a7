// The ceiling for one Node process: a dgram (and net) server that answers every
// query with one precomputed reply, patching only the ID. Usage:
//   node bench/ceiling.mjs <reply-file.bin> <port>
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const [file, portText] = process.argv.slice(2);
const reply = readFileSync(file);
const port = Number(portText);
const tail = reply.subarray(2);
const udp = createSocket('udp4');
udp.on('message', (msg, rinfo) => {
  const out = Buffer.allocUnsafe(reply.length);
  reply.copy(out);
  out[0] = msg[0];
  out[1] = msg[1];
  udp.send(out, rinfo.port, rinfo.address);
});
udp.bind(port, '127.0.0.1');
createServer((socket) => {
  // As any DNS server over TCP must (and headless-dns does): no Nagle delay on replies.
  socket.setNoDelay(true);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    // Replies to one chunk's pipelined queries in one write, as headless-dns does.
    socket.cork();
    while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
      const id0 = pending[2];
      const id1 = pending[3];
      pending = pending.subarray(2 + pending.readUInt16BE(0));
      // Length and ID in a small head; the rest of the reply is written as it is, never copied.
      const head = Buffer.allocUnsafe(4);
      head.writeUInt16BE(reply.length, 0);
      head[2] = id0;
      head[3] = id1;
      socket.write(head);
      socket.write(tail);
    }
    socket.uncork();
  });
  socket.on('error', () => socket.destroy());
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
