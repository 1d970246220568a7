// The headless-dns web page: the cluster as its API shows it, kept live by one
// stream of the kinds it shows (/ui/watch: the objects, then every change),
// and buttons that make the requests kubectl makes. Plain ES module, no build
// step, nothing from a CDN. Rendering is coalesced into one animation frame
// and keyed by object, so a StatefulSet of 1,000 members re-renders only the
// rows that changed.

const TOKEN_KEY = 'headless-dns.token';
const QUERY_ROWS = 300;
const QUERY_KEEP = 2000;
const ENDPOINTS_SHOWN = 12;

// ---------------------------------------------------------------- the API

let token = sessionStorage.getItem(TOKEN_KEY) ?? '';

class Unauthorized extends Error {}

/** A request to the API with the session's token; an error carries the Status message. */
async function api(path, { method = 'GET', body, type = 'application/json', signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = type;
  const response = await fetch(path, { method, headers, signal, ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}) });
  if (response.status === 401) {
    askForToken('');
    throw new Unauthorized('the API wants a token');
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      message = (await response.json()).message ?? message;
    } catch {}
    const error = new Error(message);
    error.code = response.status;
    throw error;
  }
  return response;
}

const json = async (path, options) => (await api(path, options)).json();

/** Reads a streamed response one JSON line at a time. */
async function eachLine(response, onLine) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    let newline;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) onLine(JSON.parse(line));
    }
  }
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const keyOf = (o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** An object's resourceVersion as a number, to drop an event older than what is held. */
const versionOf = (o) => Number(o.metadata?.resourceVersion ?? 0);

/**
 * The kinds the page shows, kept in step with the API through one stream
 * (/ui/watch): each kind's objects, then every change. When the stream ends,
 * it is opened again and everything read afresh.
 */
class Feed {
  constructor(kinds) {
    this.kinds = new Map(Object.entries(kinds).map(([kind, parts]) => [kind, { items: new Map(), synced: false, parts }]));
    this.stopped = false;
    this.controller = undefined;
  }

  of(kind) {
    return this.kinds.get(kind);
  }

  async run() {
    while (!this.stopped) {
      try {
        this.controller = new AbortController();
        const response = await api('/ui/watch', { signal: this.controller.signal });
        say('live');
        await eachLine(response, (event) => {
          const state = this.kinds.get(event.kind);
          if (!state) return;
          if (event.type === 'SYNC') {
            state.items = new Map(event.items.map((item) => [keyOf(item), item]));
            state.synced = true;
          } else if (event.type === 'DELETED') {
            state.items.delete(keyOf(event.object));
          } else {
            const held = state.items.get(keyOf(event.object));
            if (held && versionOf(held) > versionOf(event.object)) return;
            state.items.set(keyOf(event.object), event.object);
          }
          dirty(...state.parts);
        });
      } catch (error) {
        if (this.stopped || error instanceof Unauthorized) return;
      }
      if (!this.stopped) say('reconnecting…', true);
      await sleep(1000);
    }
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
  }
}

// ---------------------------------------------------------------- helpers

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === false) continue;
    if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'class') node.className = value;
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}

function say(message, isError = false) {
  const status = document.getElementById('status');
  status.textContent = message;
  status.className = isError ? 'error' : '';
}

/** Runs an action from a button; its outcome goes to the status line. */
async function act(what, run) {
  say(`${what}…`);
  try {
    await run();
    say(`${what}: done`);
  } catch (error) {
    if (!(error instanceof Unauthorized)) say(`${what}: ${error.message}`, true);
  }
}

const condition = (object, type) => object.status?.conditions?.find((c) => c.type === type);
const isReady = (pod) => condition(pod, 'Ready')?.status === 'True';

function podStatus(pod) {
  if (pod.metadata.deletionTimestamp) return 'Terminating';
  for (const status of pod.status?.containerStatuses ?? []) {
    const reason = status.state?.waiting?.reason ?? status.state?.terminated?.reason;
    if (reason) return reason;
  }
  return pod.status?.phase ?? 'Pending';
}

const restarts = (pod) => (pod.status?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);
const ordinalOf = (pod) => Number(pod.metadata.labels?.['apps.kubernetes.io/pod-index'] ?? /-(\d+)$/.exec(pod.metadata.name)?.[1] ?? -1);
const nsPath = (o) => `/namespaces/${encodeURIComponent(o.metadata.namespace ?? 'default')}`;

// ---------------------------------------------------------------- state

const KINDS = {
  StatefulSet: ['sets'],
  Pod: ['sets', 'nodes'],
  PersistentVolumeClaim: ['sets'],
  Service: ['services'],
  EndpointSlice: ['services'],
  Node: ['nodes'],
};
let feed = new Feed(KINDS);
const items = (kind) => feed.of(kind).items;
const synced = (kind) => feed.of(kind).synced;

const pending = new Set();
let frame = 0;
function dirty(...parts) {
  for (const part of parts) pending.add(part);
  if (!frame) frame = requestAnimationFrame(render);
}

function render() {
  frame = 0;
  const parts = [...pending];
  pending.clear();
  if (parts.includes('sets')) renderSets();
  if (parts.includes('services')) renderServices();
  if (parts.includes('nodes')) renderNodes();
  if (parts.includes('queries')) renderQueries();
  if (parts.includes('faults')) renderFaults();
}

// ---------------------------------------------------------------- StatefulSets

/** Per set: its block and its member rows by pod key, reused across renders. */
const setViews = new Map();

function claimsOf(pod, claims) {
  return (pod.spec?.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => {
    const claim = claims.get(`${pod.metadata.namespace ?? ''}/${v.persistentVolumeClaim.claimName}`);
    return `${v.persistentVolumeClaim.claimName}${claim ? ` (${claim.status?.phase ?? 'Pending'})` : ''}`;
  });
}

/** What a member row shows depends on only this: a row is rebuilt when it changes. */
function memberSignature(pod, set, claims) {
  const revision = pod.metadata.labels?.['controller-revision-hash'] ?? '';
  return `${pod.metadata.resourceVersion}|${revision === set.status?.updateRevision}|${claimsOf(pod, claims).join(',')}`;
}

function memberRow(pod, set, claims, signature) {
  const ready = isReady(pod);
  const revision = pod.metadata.labels?.['controller-revision-hash'] ?? '';
  const updated = revision && revision === set.status?.updateRevision;
  const podClaims = claimsOf(pod, claims);
  const status = podStatus(pod);
  const row = el(
    'tr',
    { 'data-pod': keyOf(pod), 'data-ready': String(ready) },
    el('td', {}, ordinalOf(pod)),
    el('td', { class: 'mono' }, pod.metadata.name),
    el('td', { class: 'mono' }, pod.status?.podIP ?? '—'),
    el('td', {}, pod.spec?.nodeName ?? '—'),
    el('td', { class: ready ? 'ready' : 'unready' }, ready ? 'Ready' : 'NotReady'),
    el('td', { class: status === 'Terminating' ? 'terminating' : '' }, status),
    el('td', { class: 'mono', title: updated ? 'at the update revision' : 'not yet updated' }, revision ? `${revision}${updated ? '' : ' (old)'}` : '—'),
    el('td', {}, restarts(pod)),
    el('td', { class: 'mono' }, podClaims.join(', ') || '—'),
    el(
      'td',
      {},
      el('button', { type: 'button', 'data-action': ready ? 'unready' : 'ready', onclick: () => setPodReady(pod, !ready) }, ready ? 'Unready' : 'Ready'),
      ' ',
      el('button', { type: 'button', class: 'danger', 'data-action': 'delete', onclick: () => act(`delete pod ${pod.metadata.name}`, () => api(`/api/v1${nsPath(pod)}/pods/${encodeURIComponent(pod.metadata.name)}`, { method: 'DELETE' })) }, 'Delete'),
    ),
  );
  row.signature = signature;
  return row;
}

function setPodReady(pod, ready) {
  const body = { status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }] } };
  return act(`mark ${pod.metadata.name} ${ready ? 'ready' : 'unready'}`, () =>
    api(`/api/v1${nsPath(pod)}/pods/${encodeURIComponent(pod.metadata.name)}/status`, { method: 'PATCH', body, type: 'application/strategic-merge-patch+json' }),
  );
}

function setBlock(set) {
  const key = keyOf(set);
  const base = `/apis/apps/v1${nsPath(set)}/statefulsets/${encodeURIComponent(set.metadata.name)}`;
  const replicas = el('input', { type: 'number', min: 0, value: set.spec?.replicas ?? 1, 'aria-label': `replicas of ${set.metadata.name}`, 'data-scale': key });
  const image = el('input', { placeholder: 'new image', 'aria-label': `image for ${set.metadata.name}`, size: 22, 'data-image': key });
  const filter = el('input', { placeholder: 'filter members', 'aria-label': `filter members of ${set.metadata.name}`, size: 14 });
  const summary = el('span', { class: 'pill' });
  const revision = el('span', { class: 'muted mono' });
  const body = el('tbody');
  const block = el(
    'div',
    { class: 'set', 'data-set': key },
    el(
      'div',
      { class: 'set-head' },
      el('h3', {}, set.metadata.name),
      el('span', { class: 'muted' }, set.metadata.namespace),
      summary,
      revision,
      el(
        'form',
        {
          class: 'row',
          onsubmit: (event) => {
            event.preventDefault();
            act(`scale ${set.metadata.name} to ${replicas.value}`, () => api(`${base}/scale`, { method: 'PATCH', body: { spec: { replicas: Number(replicas.value) } }, type: 'application/merge-patch+json' }));
          },
        },
        replicas,
        el('button', { type: 'submit', 'data-action': 'scale' }, 'Scale'),
      ),
      el(
        'button',
        {
          type: 'button',
          'data-action': 'restart',
          onclick: () =>
            act(`restart ${set.metadata.name}`, () =>
              api(base, { method: 'PATCH', body: { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString().replace(/\.\d+Z$/, 'Z') } } } } }, type: 'application/strategic-merge-patch+json' }),
            ),
        },
        'Restart',
      ),
      image,
      el(
        'button',
        {
          type: 'button',
          'data-action': 'roll',
          onclick: () => {
            const current = items('StatefulSet').get(key);
            const container = current?.spec?.template?.spec?.containers?.[0]?.name;
            if (!image.value.trim() || !container) return say('roll: give the new image first', true);
            act(`roll ${set.metadata.name} to ${image.value.trim()}`, () =>
              api(base, { method: 'PATCH', body: { spec: { template: { spec: { containers: [{ name: container, image: image.value.trim() }] } } } }, type: 'application/strategic-merge-patch+json' }),
            );
          },
        },
        'Roll',
      ),
      filter,
    ),
    el(
      'div',
      { class: 'scroll' },
      el('table', {}, el('thead', {}, el('tr', {}, ['#', 'pod', 'pod IP', 'node', 'ready', 'status', 'revision', 'restarts', 'claims', ''].map((h) => el('th', {}, h)))), body),
    ),
  );
  const view = { block, body, rows: new Map(), summary, revision, replicas, filter, order: '' };
  filter.addEventListener('input', () => dirty('sets'));
  return view;
}

function renderSets() {
  const container = document.getElementById('statefulsets');
  if (!synced('StatefulSet')) return;
  const membersOf = new Map();
  for (const pod of items('Pod').values()) {
    const owner = pod.metadata.ownerReferences?.find((o) => o.kind === 'StatefulSet' && o.controller);
    if (!owner) continue;
    const key = `${pod.metadata.namespace ?? ''}/${owner.name}`;
    if (!membersOf.has(key)) membersOf.set(key, []);
    membersOf.get(key).push(pod);
  }
  const sets = [...items('StatefulSet').values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  if (sets.length === 0) {
    container.replaceChildren(el('p', { class: 'muted' }, 'No StatefulSets. Apply one with kubectl apply -f, or start serve with -f.'));
    setViews.clear();
    return;
  }
  const seen = new Set();
  const blocks = [];
  for (const set of sets) {
    const key = keyOf(set);
    seen.add(key);
    let view = setViews.get(key);
    if (!view) setViews.set(key, (view = setBlock(set)));
    const members = (membersOf.get(key) ?? []).sort((a, b) => ordinalOf(a) - ordinalOf(b));
    const readyCount = members.filter(isReady).length;
    view.summary.textContent = `${readyCount}/${set.spec?.replicas ?? 1} ready`;
    view.summary.setAttribute('data-ready-count', String(readyCount));
    const { currentRevision, updateRevision } = set.status ?? {};
    view.revision.textContent = updateRevision ? (currentRevision === updateRevision ? `revision ${updateRevision}` : `rolling ${currentRevision} → ${updateRevision}`) : '';
    if (document.activeElement !== view.replicas) view.replicas.value = set.spec?.replicas ?? 1;
    const needle = view.filter.value.trim().toLowerCase();
    const shown = needle ? members.filter((p) => `${p.metadata.name} ${p.status?.podIP ?? ''} ${p.spec?.nodeName ?? ''}`.toLowerCase().includes(needle)) : members;
    const claims = items('PersistentVolumeClaim');
    const rows = [];
    const keep = new Set();
    for (const pod of shown) {
      const podKey = keyOf(pod);
      keep.add(podKey);
      let row = view.rows.get(podKey);
      const signature = memberSignature(pod, set, claims);
      if (!row || row.signature !== signature) {
        const fresh = memberRow(pod, set, claims, signature);
        if (row) row.replaceWith(fresh);
        row = fresh;
        view.rows.set(podKey, row);
      }
      rows.push(row);
    }
    for (const podKey of view.rows.keys()) if (!keep.has(podKey)) view.rows.delete(podKey);
    // Reorder only when membership or order changed: moving 1,000 rows each frame would be the cost.
    const order = rows.map((r) => r.getAttribute('data-pod')).join(',');
    if (order !== view.order) {
      view.body.replaceChildren(...rows);
      view.order = order;
    }
    blocks.push(view.block);
  }
  for (const key of setViews.keys()) if (!seen.has(key)) setViews.delete(key);
  if (blocks.length !== container.children.length || blocks.some((b, i) => container.children[i] !== b)) container.replaceChildren(...blocks);
}

// ---------------------------------------------------------------- Services and nodes

function renderServices() {
  if (!synced('Service')) return;
  const bySlice = new Map();
  for (const slice of items('EndpointSlice').values()) {
    const service = slice.metadata.labels?.['kubernetes.io/service-name'];
    if (!service) continue;
    const key = `${slice.metadata.namespace ?? ''}/${service}`;
    if (!bySlice.has(key)) bySlice.set(key, []);
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue;
      for (const address of endpoint.addresses ?? []) bySlice.get(key).push(endpoint.hostname ? `${endpoint.hostname} ${address}` : address);
    }
  }
  const rows = [...items('Service').values()]
    .sort((a, b) => keyOf(a).localeCompare(keyOf(b)))
    .map((service) => {
      const ready = (bySlice.get(keyOf(service)) ?? []).sort();
      const headless = service.spec?.clusterIP === 'None';
      const shown = ready.slice(0, ENDPOINTS_SHOWN).join(', ') + (ready.length > ENDPOINTS_SHOWN ? ` … and ${ready.length - ENDPOINTS_SHOWN} more` : '');
      return el(
        'tr',
        { 'data-service': keyOf(service) },
        el('td', { class: 'mono' }, service.metadata.name),
        el('td', {}, service.metadata.namespace),
        el('td', {}, service.spec?.type === 'ExternalName' ? `ExternalName ${service.spec.externalName}` : headless ? 'headless' : service.spec?.clusterIP ?? ''),
        el('td', {}, (service.spec?.ports ?? []).map((p) => `${p.name ? `${p.name}:` : ''}${p.port}/${p.protocol ?? 'TCP'}`).join(' ')),
        el('td', { 'data-ready-endpoints': ready.length }, ready.length),
        el('td', { class: 'endpoints mono' }, shown || '—'),
      );
    });
  document.getElementById('services').replaceChildren(
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ['name', 'namespace', 'address', 'ports', 'ready', 'ready endpoints'].map((h) => el('th', {}, h)))), el('tbody', {}, rows))),
  );
}

function patchNodeReady(node, status) {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const ready =
    status === 'True'
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }
      : { type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: now, lastTransitionTime: now };
  return api(`/api/v1/nodes/${encodeURIComponent(node.metadata.name)}/status`, { method: 'PATCH', body: { status: { conditions: [ready] } }, type: 'application/strategic-merge-patch+json' });
}

function renderNodes() {
  if (!synced('Node')) return;
  const podsOn = new Map();
  for (const pod of items('Pod').values()) if (pod.spec?.nodeName) podsOn.set(pod.spec.nodeName, (podsOn.get(pod.spec.nodeName) ?? 0) + 1);
  const rows = [...items('Node').values()]
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))
    .map((node) => {
      const ready = condition(node, 'Ready')?.status ?? 'Unknown';
      const name = node.metadata.name;
      return el(
        'tr',
        { 'data-node': name },
        el('td', { class: 'mono' }, name),
        el('td', { class: ready === 'True' ? 'ready' : 'unready' }, ready === 'True' ? 'Ready' : `NotReady (${ready})`, node.spec?.unschedulable ? ', SchedulingDisabled' : ''),
        el('td', {}, podsOn.get(name) ?? 0),
        el(
          'td',
          {},
          ready === 'True'
            ? el('button', { type: 'button', class: 'danger', 'data-action': 'fail-node', onclick: () => act(`fail node ${name}`, () => patchNodeReady(node, 'Unknown')) }, 'Fail')
            : el('button', { type: 'button', 'data-action': 'restore-node', onclick: () => act(`restore node ${name}`, () => patchNodeReady(node, 'True')) }, 'Restore'),
        ),
      );
    });
  document.getElementById('nodes').replaceChildren(el('table', {}, el('thead', {}, el('tr', {}, ['node', 'status', 'pods', ''].map((h) => el('th', {}, h)))), el('tbody', {}, rows)));
}

// ---------------------------------------------------------------- query log

const queries = [];
let queryLogState = 'loading';

async function followQueries() {
  for (;;) {
    try {
      const response = await api('/debug/queries?watch=true');
      queryLogState = 'on';
      queries.length = 0;
      dirty('queries');
      await eachLine(response, (record) => {
        if (document.getElementById('query-pause').checked) return;
        queries.push(record);
        if (queries.length > QUERY_KEEP) queries.splice(0, queries.length - QUERY_KEEP);
        dirty('queries');
      });
    } catch (error) {
      if (error instanceof Unauthorized) return;
      if (error.code === 404) {
        queryLogState = 'off';
        dirty('queries');
        return;
      }
    }
    await sleep(1000);
  }
}

function renderQueries() {
  const target = document.getElementById('queries');
  if (queryLogState === 'off') {
    target.replaceChildren(el('p', { class: 'muted' }, 'The query log is off. Start serve with --keep-queries (kept here only) or --log-queries (also printed), or startCluster({ queryLog: true }).'));
    return;
  }
  const name = document.getElementById('query-name').value.trim().toLowerCase();
  const type = document.getElementById('query-type').value.trim().toUpperCase();
  const rcode = document.getElementById('query-rcode').value.trim().toUpperCase();
  const shown = [];
  for (let i = queries.length - 1; i >= 0 && shown.length < QUERY_ROWS; i--) {
    const q = queries[i];
    if ((name && !q.name.toLowerCase().includes(name)) || (type && q.type !== type) || (rcode && q.rcode !== rcode)) continue;
    shown.push(
      el(
        'tr',
        { 'data-query': q.name, 'data-type': q.type },
        el('td', { class: 'mono' }, q.time.slice(11, 23)),
        el('td', { class: 'mono' }, q.client),
        el('td', {}, q.transport),
        el('td', { class: 'mono' }, q.name),
        el('td', {}, q.type),
        el('td', { class: q.rcode === 'NOERROR' ? '' : 'unready' }, q.rcode),
        el('td', {}, q.answers),
        el('td', {}, q.truncated ? 'tc' : ''),
        el('td', {}, `${q.latencyMicros} µs`),
        el('td', { class: 'mono' }, q.fault ?? ''),
      ),
    );
  }
  target.replaceChildren(
    el('p', { class: 'muted' }, `${queries.length} queries seen since this page opened; newest first${shown.length === QUERY_ROWS ? `, the last ${QUERY_ROWS} shown` : ''}.`),
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ['time', 'client', 'proto', 'name', 'type', 'rcode', 'answers', '', 'latency', 'fault'].map((h) => el('th', {}, h)))), el('tbody', {}, shown))),
  );
}

// ---------------------------------------------------------------- faults

let faults = [];

async function refreshFaults() {
  try {
    faults = (await json('/debug/faults')).items;
    dirty('faults');
  } catch {}
}

function effectOf(rule) {
  const parts = [];
  if (rule.rcode) parts.push(rule.rcode);
  if (rule.delay !== undefined) parts.push(`delay ${rule.delay} ms${rule.jitter ? ` ±${rule.jitter}` : ''}`);
  if (rule.drop !== undefined) parts.push(`drop ${rule.drop}`);
  if (rule.truncate) parts.push('truncate');
  if (rule.tcpClose) parts.push('close TCP');
  if (rule.stale !== undefined) parts.push(`stale ${rule.stale} s`);
  if (rule.count !== undefined) parts.push(`×${rule.count}`);
  if (rule.transport) parts.push(`${rule.transport} only`);
  return parts.join(', ');
}

function renderFaults() {
  const rows = faults.map((rule) =>
    el(
      'tr',
      { 'data-fault': rule.id },
      el('td', { class: 'mono' }, rule.id),
      el('td', { class: 'mono wrap' }, rule.name),
      el('td', {}, rule.type ?? 'any'),
      el('td', {}, effectOf(rule)),
      el('td', { 'data-hits': rule.hits }, rule.hits),
      el(
        'td',
        {},
        el('label', {}, el('input', { type: 'checkbox', checked: rule.enabled !== false, 'aria-label': `${rule.id} enabled`, onchange: (event) => act(`${event.target.checked ? 'enable' : 'disable'} ${rule.id}`, async () => { await api(`/debug/faults/${rule.id}`, { method: 'PATCH', body: { enabled: event.target.checked } }); await refreshFaults(); }) }), ' on'),
        ' ',
        el('button', { type: 'button', class: 'danger', onclick: () => act(`remove ${rule.id}`, async () => { await api(`/debug/faults/${rule.id}`, { method: 'DELETE' }); await refreshFaults(); }) }, 'Remove'),
      ),
    ),
  );
  document.getElementById('faults').replaceChildren(
    rows.length ? el('table', {}, el('thead', {}, el('tr', {}, ['id', 'name', 'type', 'effect', 'hits', ''].map((h) => el('th', {}, h)))), el('tbody', {}, rows)) : el('p', { class: 'muted' }, 'No faults: DNS answers as a cluster would.'),
  );
}

function faultFromForm() {
  const effect = document.getElementById('fault-effect').value;
  const value = document.getElementById('fault-value').value;
  const rule = { name: document.getElementById('fault-name').value.trim() };
  const type = document.getElementById('fault-type').value;
  const transport = document.getElementById('fault-transport').value;
  const count = document.getElementById('fault-count').value;
  if (type) rule.type = type;
  if (transport) rule.transport = transport;
  if (count) rule.count = Number(count);
  if (effect === 'rcode') rule.rcode = document.getElementById('fault-rcode').value;
  else if (effect === 'truncate' || effect === 'tcpClose') rule[effect] = true;
  else rule[effect] = Number(value || (effect === 'drop' ? 1 : effect === 'stale' ? 30 : 1000));
  return rule;
}

// ---------------------------------------------------------------- forms and start

function wireForms() {
  const effect = document.getElementById('fault-effect');
  effect.addEventListener('change', () => {
    document.getElementById('fault-rcode').hidden = effect.value !== 'rcode';
    document.getElementById('fault-value').hidden = ['rcode', 'truncate', 'tcpClose'].includes(effect.value);
  });
  document.getElementById('fault-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const rule = faultFromForm();
    act(`add fault for ${rule.name}`, async () => {
      await api('/debug/faults', { method: 'POST', body: rule });
      await refreshFaults();
    });
  });
  document.getElementById('dig-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = document.getElementById('dig-name').value.trim();
    const type = document.getElementById('dig-type').value;
    const tcp = document.getElementById('dig-tcp').checked;
    const output = document.getElementById('dig-output');
    output.textContent = `dig ${name} ${type}…`;
    try {
      output.textContent = (await json(`/debug/dig?name=${encodeURIComponent(name)}&type=${encodeURIComponent(type)}${tcp ? '&tcp=true' : ''}`)).text;
    } catch (error) {
      output.textContent = `;; ${error.message}`;
    }
  });
  for (const id of ['query-name', 'query-type', 'query-rcode']) document.getElementById(id).addEventListener('input', () => dirty('queries'));
  document.getElementById('query-filter').addEventListener('submit', (event) => event.preventDefault());
  document.getElementById('query-clear').addEventListener('click', () => {
    queries.length = 0;
    dirty('queries');
  });
  document.getElementById('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    token = document.getElementById('token-input').value.trim();
    sessionStorage.setItem(TOKEN_KEY, token);
    document.getElementById('token-dialog').close();
    start();
  });
}

let asked = false;
function askForToken(message) {
  if (asked) return;
  asked = true;
  feed.stop();
  document.getElementById('token-error').textContent = message || (token ? 'That token was refused.' : '');
  document.getElementById('token-dialog').showModal();
}

async function start() {
  asked = false;
  try {
    const info = await json('/headless-dns/v1/info');
    document.getElementById('info').textContent = `DNS ${info.dns ?? '?'} · zone ${info.zone ?? '?'} · v${info.version}`;
    const digName = document.getElementById('dig-name');
    if (!digName.value) digName.value = `kubia.default.svc.${info.zone ?? 'cluster.local'}`;
  } catch (error) {
    if (!(error instanceof Unauthorized)) say(`cannot reach the API: ${error.message}`, true);
    return;
  }
  feed = new Feed(KINDS);
  void feed.run();
  void followQueries();
  void refreshFaults();
}

wireForms();
// Faults have no watch: a rule's hits and expiry are read every two seconds.
setInterval(() => {
  if (!asked && document.visibilityState === 'visible') void refreshFaults();
}, 2000);
start();
