// The Gregor console: one ES module, Preact + htm (vendored, no build step), uPlot for charts.
// Pages are hash routes (#/topics/orders) so links work without a server-side router. Every number
// comes from the REST API under /api/ (docs/console.md); the live tail is a server-sent event stream.
import { h, render } from './vendor/preact.mjs';
import { useCallback, useEffect, useRef, useState } from './vendor/preact-hooks.mjs';
import htm from './vendor/htm.mjs';

const html = htm.bind(h);
const POLL_MS = 2000;
const TAIL_ROWS_MAX = 500;

// ---------------------------------------------------------------- formatting

const fmtNum = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 }));
function fmtBytes(n) {
  if (n === null || n === undefined || n < 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
const fmtRate = (n, unit) => (n === null || n === undefined ? '–' : `${fmtNum(n)} ${unit}/s`);
const fmtTime = (ms) => (ms < 0 ? '–' : new Date(ms).toISOString().replace('T', ' ').replace('Z', ''));
const fmtPercent = (r) => (r === null || r === undefined ? '–' : `${(r * 100).toFixed(1)} %`);
const enc = encodeURIComponent;

function fieldText(field) {
  if (field.encoding === 'null') return 'null';
  const text = field.encoding === 'json' ? JSON.stringify(field.data) : String(field.data);
  return field.truncated ? `${text} … (${fmtBytes(field.size)})` : text;
}

// ---------------------------------------------------------------- data

class ApiError extends Error {}

async function api(path, options) {
  const response = await fetch(path, options);
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(body?.message ?? `${response.status} ${response.statusText}`);
  return body;
}

/** Reads `path` now and every `intervalMs`; null path reads nothing. */
function usePoll(path, intervalMs = POLL_MS) {
  const [state, setState] = useState({ data: null, error: null });
  useEffect(() => {
    if (path === null) return undefined;
    let stopped = false;
    let timer;
    const load = async () => {
      try {
        const data = await api(path);
        if (!stopped) setState({ data, error: null });
      } catch (error) {
        if (!stopped) setState((s) => ({ data: s.data, error: error.message }));
      }
      if (!stopped) timer = setTimeout(load, intervalMs);
    };
    setState({ data: null, error: null });
    load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [path, intervalMs]);
  return state;
}

function useRoute() {
  const [hash, setHash] = useState(location.hash || '#/');
  useEffect(() => {
    const onChange = () => setHash(location.hash || '#/');
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash.slice(1).split('/').filter(Boolean).map(decodeURIComponent);
}

// ---------------------------------------------------------------- pieces

const ErrorBanner = ({ error }) => (error ? html`<div class="error" role="alert" data-testid="error">${error}</div>` : null);
const Loading = () => html`<p class="muted" aria-live="polite">Loading…</p>`;
const Card = ({ label, value, bad, testid }) => html`<div class=${`card${bad ? ' bad' : ''}`} data-testid=${testid}><div class="label">${label}</div><div class="value">${value}</div></div>`;

function Table({ columns, rows, empty, rowKey, testid }) {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`;
  return html`<div class="table-wrap"><table data-testid=${testid}>
    <thead><tr>${columns.map((c) => html`<th scope="col" class=${c.num ? 'num' : ''}>${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((row, i) => html`<tr key=${rowKey ? rowKey(row) : i} data-testid=${testid ? `${testid}-row` : undefined}>${columns.map((c) => html`<td class=${c.num ? 'num' : c.field ? 'field' : ''}>${c.render(row)}</td>`)}</tr>`)}</tbody>
  </table></div>`;
}

/** A uPlot time series; `series` is [{ label, values }], `times` in ms. */
function Chart({ title, times, series, testid }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    if (typeof uPlot === 'undefined' || box.current === null) return undefined;
    const width = () => Math.max(280, box.current.clientWidth - 16);
    plot.current = new uPlot(
      { title, width: width(), height: 200, scales: { x: { time: true } }, series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: ['#1f6feb', '#cf222e', '#1a7f37'][i % 3], width: 2 }))], axes: [{}, { size: 60 }] },
      [times.map((t) => t / 1000), ...series.map((s) => s.values)],
      box.current,
    );
    const onResize = () => plot.current?.setSize({ width: width(), height: 200 });
    addEventListener('resize', onResize);
    return () => {
      removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
  }, [title, series.length]);
  useEffect(() => {
    plot.current?.setData([times.map((t) => t / 1000), ...series.map((s) => s.values)]);
  }, [times, series]);
  return html`<div class="chart" ref=${box} data-testid=${testid} role="img" aria-label=${title}></div>`;
}

// ---------------------------------------------------------------- pages

function Overview() {
  const stats = usePoll('/api/stats');
  const brokers = usePoll('/api/brokers');
  const alerts = usePoll('/api/alerts');
  const topics = usePoll('/api/topics');
  const groups = usePoll('/api/groups');
  const s = stats.data;
  const history = s?.throughput.history ?? [];
  return html`<section>
    <h1>Cluster</h1>
    <${ErrorBanner} error=${stats.error ?? brokers.error ?? alerts.error ?? topics.error ?? groups.error} />
    ${s === null ? html`<${Loading} />` : html`<div class="cards">
      <${Card} label="Brokers" value=${s.brokers} testid="stat-brokers" />
      <${Card} label="Controller" value=${s.controllerId < 0 ? 'none' : `broker ${s.controllerId}`} bad=${s.controllerId < 0} />
      <${Card} label="Topics" value=${s.topics} testid="stat-topics" />
      <${Card} label="Partitions" value=${s.partitions} />
      <${Card} label="Under-replicated" value=${s.underReplicatedPartitions} bad=${s.underReplicatedPartitions > 0} testid="stat-urp" />
      <${Card} label="Offline" value=${s.offlinePartitions} bad=${s.offlinePartitions > 0} />
      <${Card} label="Consumer groups" value=${s.groups} />
      <${Card} label="Records" value=${fmtNum(s.messages)} />
      <${Card} label="Size" value=${fmtBytes(s.sizeBytes)} />
      <${Card} label="Throughput now" value=${fmtRate(s.throughput.recordsPerSecond, 'rec')} testid="stat-throughput" />
      <${Card} label="Bytes in now" value=${fmtRate(s.throughput.bytesPerSecond === null ? null : s.throughput.bytesPerSecond / 1024, 'KiB')} />
    </div>`}
    <div class="split">
      <div>
        <h2>Topics</h2>
        ${topics.data === null ? html`<${Loading} />` : html`<${Table} testid="overview-topics" rows=${topics.data.topics.filter((t) => !t.internal)} rowKey=${(t) => t.name} empty="No topics yet." columns=${[
          { label: 'Topic', render: (t) => html`<a href=${`#/topics/${enc(t.name)}`}>${t.name}</a>` },
          { label: 'Partitions', num: true, render: (t) => t.partitions },
          { label: 'Records', num: true, render: (t) => fmtNum(t.messages) },
          { label: 'Records/s', num: true, render: (t) => fmtNum(t.recordsPerSecond) },
          { label: '', render: (t) => html`<a href=${`#/tail/${enc(t.name)}`}>tail</a>` },
        ]} />`}
      </div>
      <div>
        <h2>Consumer groups</h2>
        ${groups.data === null ? html`<${Loading} />` : html`<${Table} testid="overview-groups" rows=${groups.data.groups} rowKey=${(g) => g.groupId} empty="No consumer groups yet." columns=${[
          { label: 'Group', render: (g) => html`<a href=${`#/groups/${enc(g.groupId)}`}>${g.groupId}</a>` },
          { label: 'State', render: (g) => g.state },
          { label: 'Members', num: true, render: (g) => fmtNum(g.members) },
          { label: 'Lag', num: true, render: (g) => fmtNum(g.lag) },
        ]} />`}
      </div>
    </div>
    <h2>Alerts (seed 000's rules)</h2>
    ${alerts.data === null ? html`<${Loading} />` : html`<${Table} testid="alerts" rows=${alerts.data.alerts} empty="No checks." columns=${[
      { label: 'State', render: (a) => html`<span class=${`badge ${a.firing ? 'bad' : 'ok'}`}>${a.firing ? 'firing' : 'ok'}</span>` },
      { label: 'Alert', render: (a) => a.name },
      { label: 'Rule', render: (a) => a.summary },
      { label: 'Worst now', num: true, render: (a) => (a.value === null ? '–' : a.name === 'KafkaBrokerDiskUsageHigh' ? fmtPercent(a.value) : fmtNum(a.value)) },
      { label: 'Details', render: (a) => a.details.join('; ') || html`<span class="muted">–</span>` },
    ]} />`}
    <h2>Brokers</h2>
    ${brokers.data === null ? html`<${Loading} />` : html`<${Table} testid="brokers" rows=${brokers.data.brokers} rowKey=${(b) => b.nodeId} empty="No brokers." columns=${[
      { label: 'Id', num: true, render: (b) => b.nodeId },
      { label: 'Address', render: (b) => `${b.host}:${b.port}` },
      { label: 'Role', render: (b) => (b.isController ? html`<span class="badge ok">controller</span>` : '') },
      { label: 'Leader of', num: true, render: (b) => b.leaderOf },
      { label: 'Replicas', num: true, render: (b) => b.replicas },
      { label: 'Log dir', render: (b) => b.logDirs.map((d) => d.logDir).join(', ') },
      { label: 'Disk used', num: true, render: (b) => b.logDirs.map((d) => fmtPercent(d.usedRatio)).join(', ') },
      { label: 'Disk free', num: true, render: (b) => b.logDirs.map((d) => fmtBytes(d.usableBytes)).join(', ') },
    ]} />`}
    <h2>Throughput</h2>
    <${Chart} title="Records per second (all topics)" testid="throughput-chart" times=${history.map((p) => p.timeMs)} series=${[{ label: 'records/s', values: history.map((p) => p.recordsPerSecond) }]} />
  </section>`;
}

function Topics() {
  const [internal, setInternal] = useState(false);
  const { data, error } = usePoll('/api/topics');
  const rows = (data?.topics ?? []).filter((t) => internal || !t.internal);
  return html`<section>
    <h1>Topics</h1>
    <${ErrorBanner} error=${error} />
    <label class="row" style="flex-direction:row;margin-bottom:.5rem"><input type="checkbox" checked=${internal} onChange=${(e) => setInternal(e.currentTarget.checked)} /> show internal topics</label>
    ${data === null ? html`<${Loading} />` : html`<${Table} testid="topics" rows=${rows} rowKey=${(t) => t.name} empty="No topics yet." columns=${[
      { label: 'Topic', render: (t) => html`<a href=${`#/topics/${enc(t.name)}`}>${t.name}</a>` },
      { label: 'Partitions', num: true, render: (t) => t.partitions },
      { label: 'Replication', num: true, render: (t) => t.replicationFactor },
      { label: 'Under-replicated', num: true, render: (t) => (t.underReplicatedPartitions > 0 ? html`<span class="badge bad">${t.underReplicatedPartitions}</span>` : 0) },
      { label: 'Offline', num: true, render: (t) => (t.offlinePartitions > 0 ? html`<span class="badge bad">${t.offlinePartitions}</span>` : 0) },
      { label: 'Records', num: true, render: (t) => fmtNum(t.messages) },
      { label: 'Size', num: true, render: (t) => fmtBytes(t.sizeBytes) },
      { label: 'Records/s', num: true, render: (t) => fmtNum(t.recordsPerSecond) },
      { label: '', render: (t) => html`<a href=${`#/tail/${enc(t.name)}`}>tail</a>` },
    ]} />`}
  </section>`;
}

function Topic({ name }) {
  const { data, error } = usePoll(`/api/topics/${enc(name)}`);
  return html`<section>
    <h1>Topic ${name}</h1>
    <${ErrorBanner} error=${error} />
    <p class="row"><a href=${`#/tail/${enc(name)}`}>Live tail and search</a><a href=${`#/produce/${enc(name)}`}>Produce a record</a></p>
    ${data === null ? html`<${Loading} />` : html`
      <div class="cards">
        <${Card} label="Partitions" value=${data.partitions.length} />
        <${Card} label="Records" value=${fmtNum(data.messages)} />
        <${Card} label="Size" value=${fmtBytes(data.sizeBytes)} />
        <${Card} label="Records/s" value=${fmtNum(data.recordsPerSecond)} />
        <${Card} label="Topic id" value=${html`<small>${data.topicId}</small>`} />
      </div>
      <h2>Partitions</h2>
      <${Table} testid="partitions" rows=${data.partitions} rowKey=${(p) => p.partition} empty="No partitions." columns=${[
        { label: 'Partition', num: true, render: (p) => p.partition },
        { label: 'Leader', num: true, render: (p) => (p.leader < 0 ? html`<span class="badge bad">none</span>` : p.leader) },
        { label: 'Epoch', num: true, render: (p) => p.leaderEpoch },
        { label: 'Replicas', render: (p) => p.replicas.join(', ') },
        { label: 'ISR', render: (p) => html`${p.isr.join(', ')} ${p.underReplicated ? html`<span class="badge warn">under-replicated</span>` : ''}` },
        { label: 'Log start', num: true, render: (p) => fmtNum(p.logStartOffset) },
        { label: 'Log end', num: true, render: (p) => fmtNum(p.logEndOffset) },
        { label: 'High watermark', num: true, render: (p) => fmtNum(p.highWatermark) },
        { label: 'Size', num: true, render: (p) => fmtBytes(p.sizeBytes) },
        { label: 'Segments', num: true, render: (p) => fmtNum(p.segments) },
        { label: 'Error', render: (p) => (p.error ? html`<span class="badge bad">${p.error}</span>` : '') },
      ]} />
      <h2>Configs</h2>
      ${Array.isArray(data.configs)
        ? html`<${Table} testid="configs" rows=${[...data.configs].sort((a, b) => Number(a.isDefault) - Number(b.isDefault))} rowKey=${(c) => c.name} empty="No configs." columns=${[
            { label: 'Name', render: (c) => c.name },
            { label: 'Value', field: true, render: (c) => (c.isSensitive ? '(sensitive)' : c.value ?? 'null') },
            { label: 'Source', render: (c) => html`<span class=${c.isDefault ? 'muted' : ''}>${c.source}</span>` },
          ]} />`
        : html`<p class="muted">Configs could not be read: ${data.configs.error}</p>`}
    `}
  </section>`;
}

const FILTER_FIELDS = ['partition', 'key', 'search', 'offset', 'end_offset', 'timestamp', 'to_timestamp', 'format'];

function filterQuery(filters) {
  const params = new URLSearchParams();
  for (const name of FILTER_FIELDS) {
    let value = filters[name];
    if (value === undefined || value === '' || (name === 'format' && value === 'auto')) continue;
    if ((name === 'timestamp' || name === 'to_timestamp') && /^\d{4}-/.test(value)) value = String(Date.parse(value.length === 16 ? `${value}:00Z` : value));
    params.set(name, value);
  }
  return params;
}

function Tail({ topic }) {
  const [filters, setFilters] = useState({ format: 'auto' });
  const [applied, setApplied] = useState({ format: 'auto' });
  const [rows, setRows] = useState([]);
  const [error, setError] = useState(null);
  const [live, setLive] = useState(false);
  const [info, setInfo] = useState(null);
  const firstInput = useRef(null);

  useEffect(() => {
    let source = null;
    let stopped = false;
    setRows([]);
    setError(null);
    setLive(false);
    const params = filterQuery(applied);
    (async () => {
      try {
        const answer = await api(`/api/messages/${enc(topic)}?${params}&limit=100`);
        if (stopped) return;
        setRows([...answer.records].reverse());
        setInfo(answer.complete ? null : `showing what was read before a bound (${answer.stoppedBy}); narrow the filters to see more`);
        const positions = answer.partitions.filter((p) => p.nextOffset !== null && p.highWatermark !== null).map((p) => `${p.partition}:${Math.max(p.nextOffset, p.highWatermark)}`);
        const tailParams = new URLSearchParams(params);
        if (positions.length > 0) tailParams.set('positions', positions.join(','));
        source = new EventSource(`/api/tail/${enc(topic)}?${tailParams}`);
        source.addEventListener('ready', () => setLive(true));
        source.addEventListener('records', (event) => {
          const { records } = JSON.parse(event.data);
          setRows((current) => [...[...records].reverse(), ...current].slice(0, TAIL_ROWS_MAX));
        });
        source.addEventListener('error', (event) => {
          if (event.data) setError(JSON.parse(event.data).message);
          setLive(source.readyState === EventSource.OPEN);
        });
      } catch (e) {
        if (!stopped) setError(e.message);
      }
    })();
    return () => {
      stopped = true;
      source?.close();
    };
  }, [topic, applied]);

  useEffect(() => {
    const onKey = (event) => {
      if (event.key === '/' && document.activeElement?.tagName !== 'INPUT' && document.activeElement?.tagName !== 'TEXTAREA') {
        event.preventDefault();
        firstInput.current?.focus();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  const set = (name) => (event) => setFilters({ ...filters, [name]: event.currentTarget.value });
  const submit = (event) => {
    event.preventDefault();
    setApplied({ ...filters });
  };
  return html`<section>
    <h1>Live tail: ${topic}</h1>
    <p class="row"><span><span class=${`live-dot${live ? '' : ' off'}`}></span>${live ? 'live: new records appear as they arrive' : 'connecting…'}</span><a href=${`#/topics/${enc(topic)}`}>topic details</a><span class="muted">Press / to search.</span></p>
    <form class="filters" onSubmit=${submit} aria-label="Filters">
      <label>Search text<input ref=${firstInput} name="search" type="search" value=${filters.search ?? ''} onInput=${set('search')} placeholder="in keys, values, headers" /></label>
      <label>Key<input name="key" value=${filters.key ?? ''} onInput=${set('key')} /></label>
      <label>Partition<input name="partition" type="number" min="0" value=${filters.partition ?? ''} onInput=${set('partition')} /></label>
      <label>From offset<input name="offset" type="number" min="0" value=${filters.offset ?? ''} onInput=${set('offset')} /></label>
      <label>To offset<input name="end_offset" type="number" min="0" value=${filters.end_offset ?? ''} onInput=${set('end_offset')} /></label>
      <label>From time (UTC)<input name="timestamp" type="datetime-local" value=${filters.timestamp ?? ''} onInput=${set('timestamp')} /></label>
      <label>To time (UTC)<input name="to_timestamp" type="datetime-local" value=${filters.to_timestamp ?? ''} onInput=${set('to_timestamp')} /></label>
      <label>Show as<select name="format" value=${filters.format} onChange=${set('format')}>${['auto', 'text', 'json', 'hex', 'base64'].map((f) => html`<option value=${f}>${f}</option>`)}</select></label>
      <button type="submit">Apply</button>
      <button type="button" class="secondary" onClick=${() => { setFilters({ format: 'auto' }); setApplied({ format: 'auto' }); }}>Clear</button>
    </form>
    <${ErrorBanner} error=${error} />
    ${info ? html`<p class="muted">${info}</p>` : null}
    <${Table} testid="tail" rows=${rows} rowKey=${(r) => `${r.partition}/${r.offset}`} empty="No records match yet; new ones appear here as they arrive." columns=${[
      { label: 'Partition', num: true, render: (r) => r.partition },
      { label: 'Offset', num: true, render: (r) => r.offset },
      { label: 'Timestamp (UTC)', render: (r) => fmtTime(r.timestamp) },
      { label: 'Key', field: true, render: (r) => fieldText(r.key) },
      { label: 'Value', field: true, render: (r) => fieldText(r.value) },
      { label: 'Headers', field: true, render: (r) => r.headers.map((hd) => `${hd.key}=${fieldText(hd.value)}`).join('\n') },
    ]} />
  </section>`;
}

function Groups() {
  const { data, error } = usePoll('/api/groups');
  return html`<section>
    <h1>Consumer groups</h1>
    <${ErrorBanner} error=${error} />
    ${data === null ? html`<${Loading} />` : html`<${Table} testid="groups" rows=${data.groups} rowKey=${(g) => g.groupId} empty="No consumer groups yet." columns=${[
      { label: 'Group', render: (g) => html`<a href=${`#/groups/${enc(g.groupId)}`}>${g.groupId}</a>` },
      { label: 'State', render: (g) => html`<span class=${`badge ${g.state === 'Stable' ? 'ok' : g.state === 'Empty' ? '' : 'warn'}`}>${g.state}</span>` },
      { label: 'Members', num: true, render: (g) => fmtNum(g.members) },
      { label: 'Topics', render: (g) => (g.topics ?? []).join(', ') },
      { label: 'Lag', num: true, render: (g) => fmtNum(g.lag) },
      { label: 'Coordinator', num: true, render: (g) => g.coordinator },
    ]} />`}
  </section>`;
}

function Group({ groupId }) {
  const { data, error } = usePoll(`/api/groups/${enc(groupId)}`, 1000);
  const history = data?.lagHistory ?? [];
  return html`<section>
    <h1>Group ${groupId}</h1>
    <${ErrorBanner} error=${error} />
    ${data === null ? html`<${Loading} />` : html`
      <div class="cards">
        <${Card} label="State" value=${data.state} />
        <${Card} label="Members" value=${data.members.length} />
        <${Card} label="Total lag" value=${html`<span data-testid="group-lag">${fmtNum(data.lag)}</span>`} />
        <${Card} label="Protocol" value=${data.protocol || '–'} />
        <${Card} label="Coordinator" value=${`broker ${data.coordinator}`} />
      </div>
      <h2>Lag over time</h2>
      <${Chart} title="Total lag (records)" testid="lag-chart" times=${history.map((p) => p.timeMs)} series=${[{ label: 'lag', values: history.map((p) => p.lag) }]} />
      <h2>Partitions</h2>
      <${Table} testid="group-partitions" rows=${data.partitions} rowKey=${(p) => `${p.topic}/${p.partition}`} empty="No committed offsets or assignments." columns=${[
        { label: 'Topic', render: (p) => html`<a href=${`#/topics/${enc(p.topic)}`}>${p.topic}</a>` },
        { label: 'Partition', num: true, render: (p) => p.partition },
        { label: 'Committed', num: true, render: (p) => fmtNum(p.committedOffset) },
        { label: 'High watermark', num: true, render: (p) => fmtNum(p.highWatermark) },
        { label: 'Lag', num: true, render: (p) => fmtNum(p.lag) },
        { label: 'Member', render: (p) => p.clientId ?? html`<span class="muted">–</span>` },
      ]} />
      <h2>Members</h2>
      <${Table} testid="members" rows=${data.members} rowKey=${(m) => m.memberId} empty="No members (nobody consumes now)." columns=${[
        { label: 'Client', render: (m) => m.clientId },
        { label: 'Host', render: (m) => m.clientHost },
        { label: 'Member id', render: (m) => html`<small>${m.memberId}</small>` },
        { label: 'Assignment', render: (m) => m.assignment.map((a) => `${a.topic}: ${a.partitions.join(',')}`).join('; ') },
      ]} />
    `}
  </section>`;
}

function Produce({ topic }) {
  const topics = usePoll('/api/topics', 10_000);
  const [form, setForm] = useState({ topic: topic ?? '', key: '', value: '', headers: '', partition: '' });
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  const set = (name) => (event) => setForm({ ...form, [name]: event.currentTarget.value });
  const submit = useCallback(
    async (event) => {
      event.preventDefault();
      setError(null);
      setResult(null);
      const headers = {};
      for (const line of form.headers.split('\n')) {
        const at = line.indexOf(':');
        if (line.trim() !== '' && at > 0) headers[line.slice(0, at).trim()] = line.slice(at + 1).trim();
      }
      try {
        const body = { key: form.key === '' ? null : form.key, value: form.value, headers, partition: form.partition === '' ? undefined : Number(form.partition) };
        setResult(await api(`/api/produce/${enc(form.topic)}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
      } catch (e) {
        setError(e.message);
      }
    },
    [form],
  );
  const names = (topics.data?.topics ?? []).filter((t) => !t.internal).map((t) => t.name);
  return html`<section>
    <h1>Produce a record</h1>
    <${ErrorBanner} error=${error ?? topics.error} />
    <form class="produce" onSubmit=${submit} aria-label="Produce">
      <label>Topic<select name="topic" value=${form.topic} onChange=${set('topic')} required>
        <option value="">choose…</option>${names.map((n) => html`<option value=${n}>${n}</option>`)}
      </select></label>
      <label>Partition<input name="partition" type="number" min="0" value=${form.partition} onInput=${set('partition')} placeholder="by key" /></label>
      <label>Key<input name="key" value=${form.key} onInput=${set('key')} placeholder="none" /></label>
      <label>Value<textarea name="value" value=${form.value} onInput=${set('value')}></textarea></label>
      <label>Headers (name: value per line)<textarea name="headers" value=${form.headers} onInput=${set('headers')}></textarea></label>
      <button type="submit" disabled=${form.topic === ''}>Send</button>
    </form>
    ${result ? html`<p role="status" data-testid="produced">Written to ${result.topic}, partition ${result.partition}, offset ${result.offset}. <a href=${`#/tail/${enc(result.topic)}`}>See it in the tail</a></p>` : null}
  </section>`;
}

// ---------------------------------------------------------------- shell

const NAV = [
  ['#/', 'Overview', 'o'],
  ['#/topics', 'Topics', 't'],
  ['#/groups', 'Groups', 'g'],
  ['#/produce', 'Produce', 'p'],
];

function App() {
  const route = useRoute();
  useEffect(() => {
    // Two-key shortcuts as in many consoles: g then o / t / g / p.
    let pending = false;
    const onKey = (event) => {
      const target = event.target;
      if (target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement || event.ctrlKey || event.metaKey || event.altKey) return;
      if (pending) {
        pending = false;
        const entry = NAV.find(([, , key]) => key === event.key);
        if (entry) location.hash = entry[0];
      } else if (event.key === 'g') pending = true;
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);
  const [page, ...rest] = route;
  const current = `#/${page ?? ''}`;
  let body;
  if (page === undefined) body = html`<${Overview} />`;
  else if (page === 'topics' && rest[0]) body = html`<${Topic} name=${rest[0]} key=${rest[0]} />`;
  else if (page === 'topics') body = html`<${Topics} />`;
  else if (page === 'tail' && rest[0]) body = html`<${Tail} topic=${rest[0]} key=${rest[0]} />`;
  else if (page === 'groups' && rest[0]) body = html`<${Group} groupId=${rest[0]} key=${rest[0]} />`;
  else if (page === 'groups') body = html`<${Groups} />`;
  else if (page === 'produce') body = html`<${Produce} topic=${rest[0]} />`;
  else body = html`<${ErrorBanner} error=${`No page ${location.hash}`} />`;
  return html`
    <header>
      <span class="brand">Gregor</span>
      <nav aria-label="Pages">${NAV.map(([href, label, key]) => html`<a href=${href} aria-current=${current === href || (href !== '#/' && current.startsWith(href)) || (href === '#/topics' && page === 'tail') ? 'page' : undefined} aria-keyshortcuts=${`g ${key}`}>${label}</a>`)}</nav>
      <span class="hint">keys: g o · g t · g g · g p · / search</span>
    </header>
    <main>${body}</main>`;
}

render(html`<${App} />`, document.getElementById('app'));
