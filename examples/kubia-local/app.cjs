// The book's kubia-pet-peers app (Kubernetes in Action, chapter 10; .cjs, as this
// repository's package is ESM), as it is
// there but for one line: the data directory. In a cluster the claim is mounted
// at /var/data; a local member is told where its claim's directory is in
// HEADLESS_DNS_VOLUME_DATA. Everything else runs unchanged under headless-dns:
// listen(8080) binds the member's own pod IP, os.hostname() is the pod's name,
// and dns.resolveSrv / http.get of cluster names go to headless-dns.
const http = require('http');
const os = require('os');
const fs = require('fs');
const dns = require('dns');

const dataFile = (process.env.HEADLESS_DNS_VOLUME_DATA || '/var/data') + '/kubia.txt';
const serviceName = 'kubia.default.svc.cluster.local';
const port = 8080;

function fileExists(file) {
  try {
    fs.statSync(file);
    return true;
  } catch (e) {
    return false;
  }
}

function httpGet(reqOptions, callback) {
  return http
    .get(reqOptions, function (response) {
      var body = '';
      response.on('data', function (d) { body += d; });
      response.on('end', function () { callback(body); });
    })
    .on('error', function (e) { callback('Error: ' + e.message); });
}

var handler = function (request, response) {
  console.log('Received request from ' + request.connection.remoteAddress + ': ' + request.method + ' ' + request.url);
  if (request.method == 'POST') {
    var file = fs.createWriteStream(dataFile);
    file.on('open', function (fd) {
      request.pipe(file);
      request.on('end', function () {
        console.log('New data has been received and stored.');
        response.writeHead(200);
        response.end('Data stored on pod ' + os.hostname() + '\n');
      });
    });
  } else {
    response.writeHead(200);
    if (request.url == '/data') {
      var data = fileExists(dataFile) ? fs.readFileSync(dataFile, 'utf8') : 'No data posted yet';
      response.end(data);
    } else {
      response.write("You've hit " + os.hostname() + '\n');
      response.write('Data stored in the cluster:\n');
      dns.resolveSrv(serviceName, function (err, addresses) {
        if (err) {
          response.end('Could not look up DNS SRV records: ' + err);
          return;
        }
        var numResponses = 0;
        if (addresses.length == 0) {
          response.end('No peers discovered.');
        } else {
          addresses.forEach(function (item) {
            var requestOptions = { host: item.name, port: port, path: '/data' };
            httpGet(requestOptions, function (returnedData) {
              numResponses++;
              response.write('- ' + item.name + ': ' + returnedData + '\n');
              if (numResponses == addresses.length) response.end();
            });
          });
        }
      });
    }
  }
};

console.log('Kubia server starting...');
var www = http.createServer(handler);
www.listen(port);
