// The status page (docs/NODE.md "The status page"): reads GET /v1/network/status from the server that
// serves it every few seconds and draws the network. Plain JavaScript, no build step, no library.
// Everything a peer says is put in the page as text (textContent), never as markup.
'use strict';

(() => {
  const REFRESH_MS = 2500;
  const MAX_ALERT_GROUPS = 50;
  const CHART_PERIODS = 20;
  const KEYTABLE_PERIODS = 6;
  const SVG = 'http://www.w3.org/2000/svg';

  // Every colour-coded state also has a symbol and a word.
  const STATES = {
    operational: ['✔', 'Operational'],
    recovering: ['↻', 'Recovering'],
    initializing: ['…', 'Initializing'],
    stopping: ['■', 'Stopping'],
    down: ['✖', 'Down'],
    unreachable: ['?', 'Unreachable'],
  };

  // What each alert type means (docs/OPERATIONS.md says what to do about it).
  const ALERT_MEANINGS = {
    Equivocation: 'A server signed two different messages where one was allowed.',
    InvalidShare: 'A server dealt a share that does not match its commitments.',
    InvalidCommitment: 'A server sent a malformed or inconsistent commitment.',
    NonZeroRefreshConstant: 'A refresh dealing would have changed the network key.',
    InvalidProof: 'A zero-knowledge proof did not verify.',
    InvalidSignatureShare: 'A signature share did not verify.',
    Replay: 'A message was sent again outside its protocol step.',
    InvalidSignature: 'A message signature did not verify.',
    ImpersonationDetected: 'Someone announced keys for this server with its stolen period key.',
    RecoveryFailed: 'A server could not recover its shares or certificate.',
    CorruptedShares: 'A server found its shares missing or corrupted and asked for recovery.',
    Unresponsive: 'A server did not take part in a protocol step in time.',
    MalformedMessage: 'A server sent a message that does not decode.',
  };

  const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'plus', 'wedge'];

  const openReports = new Set();
  const rendered = {};
  let lastView = null;

  // ---- Small helpers ------------------------------------------------------------------------------

  function h(tag, props, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(props || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else if (name.startsWith('data-') || name.startsWith('aria-') || name === 'title' || name === 'datetime' || name === 'scope' || name === 'href' || name === 'role') node.setAttribute(name, String(value));
      else node[name] = value;
    }
    append(node, children);
    return node;
  }

  function s(tag, attributes, ...children) {
    const node = document.createElementNS(SVG, tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }

  function replace(id, ...children) {
    const target = document.getElementById(id);
    target.replaceChildren();
    append(target, children);
  }

  // Renders a section only when its data changed, so that reading (or selecting) is not disturbed.
  function once(key, data, draw) {
    const json = JSON.stringify(data);
    if (rendered[key] === json) return;
    rendered[key] = json;
    draw();
  }

  function setText(id, text, className) {
    const node = document.getElementById(id);
    if (node.textContent !== text) node.textContent = text;
    if (className !== undefined && node.className !== className) node.className = className;
  }

  const time = (iso) => (iso ? new Date(iso) : null);

  function clock(iso) {
    const at = time(iso);
    if (!at || Number.isNaN(at.getTime())) return '—';
    return at.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  function timeNode(iso) {
    return iso ? h('time', { datetime: iso, title: iso, text: clock(iso) }) : '—';
  }

  function span(ms) {
    if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
    const abs = Math.abs(ms);
    if (abs < 1000) return `${Math.round(ms)} ms`;
    const seconds = abs / 1000;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
    const minutes = Math.floor(seconds / 60);
    if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return `${hours} h ${minutes % 60} min`;
    return `${Math.floor(hours / 24)} d ${hours % 24} h`;
  }

  function ago(iso, now) {
    const at = time(iso);
    if (!at) return '—';
    const ms = now - at;
    return ms >= 0 ? `${span(ms)} ago` : `in ${span(-ms)}`;
  }

  const short = (hex, length = 12) => (hex && hex.length > length ? `${hex.slice(0, length)}…` : hex || '—');

  function stateBadge(state) {
    const [symbol, word] = STATES[state] || ['?', state];
    return h('span', { class: `badge state-${state}`, 'data-state': state }, `${symbol} ${word}`);
  }

  function facts(pairs) {
    const list = h('dl', { class: 'facts' });
    for (const [term, value] of pairs) {
      if (value === undefined) continue;
      list.append(h('dt', { text: term }), h('dd', {}, value));
    }
    return list;
  }

  function table(head, rows, caption) {
    return [
      caption ? h('caption', { class: 'hint', text: caption }) : null,
      h('thead', {}, h('tr', {}, head.map((label) => h('th', { scope: 'col', text: label })))),
      h('tbody', {}, rows),
    ];
  }

  // ---- Sections ------------------------------------------------------------------------------------

  function renderSummary(view) {
    const servers = view.servers;
    const operational = servers.filter((server) => server.state === 'operational').length;
    const others = servers
      .filter((server) => server.state !== 'operational')
      .map((server) => `server ${server.id} ${STATES[server.state] ? STATES[server.state][1].toLowerCase() : server.state}`);
    const periods = servers.filter((server) => server.status).map((server) => server.status.period);
    const period = periods.length ? Math.max(...periods) : null;
    let text = `${operational} of ${servers.length} servers operational`;
    if (others.length) text += `; ${others.join(', ')}`;
    if (period !== null) text += ` · period ${period}`;
    setText('summary', text, operational === servers.length ? 'summary' : 'summary problem');
    setText('updated', `Updated ${clock(view.generatedAt)} by server ${view.self}; refreshes every ${REFRESH_MS / 1000} s.`, 'updated');
    setText('self', String(view.self));
    document.body.dataset.operational = String(operational);
  }

  function lastRefresh(status, now) {
    const refreshes = status.refreshes || [];
    if (refreshes.length) {
      const last = refreshes.reduce((a, b) => (b.period >= a.period ? b : a));
      return `period ${last.period}: ${span(last.durationMs)}, ${ago(last.committedAt, now)}`;
    }
    return status.lastRefreshDurationMs !== null && status.lastRefreshDurationMs !== undefined
      ? `took ${span(status.lastRefreshDurationMs)}`
      : 'none seen yet';
  }

  function shareAge(status, now) {
    if (status.sharesPeriod === null || status.sharesPeriod === undefined) {
      // An operational server without a committed refresh got its shares by recovery.
      return status.state === 'operational' ? 'recovered from its peers; no refresh committed here yet' : 'none yet';
    }
    const age = status.sharesRefreshedAt ? `, refreshed ${ago(status.sharesRefreshedAt, now)}` : ' (refreshed before this process started)';
    return `of period ${status.sharesPeriod}${age}`;
  }

  function reachability(server, view, selfStatus) {
    if (server.reachability === 'self') return 'this server (the page comes from it)';
    if (server.reachability === 'answered') return `its API answered in ${span(server.answeredInMs)}`;
    const label = { refused: '✖ refused', timeout: '✖ timeout', failed: '✖ failed', malformed: '✖ malformed answer' }[server.reachability] || server.reachability;
    return `${label}: ${server.problem || 'no answer'}`;
  }

  function peerLink(server, view, selfStatus, now) {
    if (server.id === view.self || !selfStatus) return undefined;
    const peer = (selfStatus.peers || []).find((p) => p.id === server.id);
    if (!peer) return 'not a peer of this server';
    const contact = peer.lastContactAt ? `, last contact ${ago(peer.lastContactAt, now)}` : ', never in contact';
    return `${peer.reachable ? '✔ reachable' : '✖ not reachable'} from server ${view.self}${contact}`;
  }

  function renderServers(view) {
    const now = time(view.generatedAt);
    const selfStatus = (view.servers.find((server) => server.id === view.self) || {}).status;
    const cards = view.servers.map((server) => {
      const status = server.status;
      const title = h('h3', {}, h('span', {}, `Server ${server.id}`, server.id === view.self ? h('span', { class: 'self-tag', text: ' (this one)' }) : null), stateBadge(server.state));
      const pairs = [['Reachability', reachability(server, view, selfStatus)], ['Peer link', peerLink(server, view, selfStatus, now)]];
      if (status) {
        pairs.push(
          ['Period', [`${status.period}`, status.periodStartedAt ? `, started ${ago(status.periodStartedAt, now)}` : '']],
          ['Next refresh', status.nextRefreshAt ? [timeNode(status.nextRefreshAt), ` (${ago(status.nextRefreshAt, now)})`] : 'none scheduled'],
          ['Last refresh', lastRefresh(status, now)],
          ['Shares', shareAge(status, now)],
          ['Peers reachable', `${status.peersReachable} of ${(status.peers || []).length}`],
          ['Alerts stored', String(status.alertCount)],
          ['KeyTable', status.keyTableFingerprint ? h('code', { title: status.keyTableFingerprint, text: short(status.keyTableFingerprint) }) : 'none decided yet'],
          ['ROM', status.romWriteProtected ? `write-protected (${(status.romProtection || '').split(':')[0]})` : '⚠ writable'],
          ['Running', `since ${ago(status.startedAt, now)} · version ${status.version}`],
        );
      }
      if (server.alertsProblem) pairs.push(['Alerts', server.alertsProblem]);
      return h('article', { class: `card state-${server.state}`, 'data-server': server.id, 'data-state': server.state, 'aria-label': `Server ${server.id}` }, title, facts(pairs));
    });
    replace('servers', cards);
  }

  function groupAlerts(view) {
    const groups = new Map();
    for (const server of view.servers) {
      for (const alert of server.alerts || []) {
        const key = `${alert.type}|${alert.culprit}|${alert.period}`;
        if (!groups.has(key)) groups.set(key, { key, type: alert.type, culprit: alert.culprit, period: alert.period, first: alert.detectedAt, last: alert.lastDetectedAt, reports: [] });
        const group = groups.get(key);
        if (alert.detectedAt < group.first) group.first = alert.detectedAt;
        if (alert.lastDetectedAt > group.last) group.last = alert.lastDetectedAt;
        group.reports.push(alert);
      }
    }
    return [...groups.values()]
      .sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : 0))
      .slice(0, MAX_ALERT_GROUPS);
  }

  function report(alert, view) {
    const key = `${alert.reporter}|${alert.id}`;
    const bytes = alert.evidence.length / 2;
    const preview = alert.evidence ? `${alert.evidence.slice(0, 32)}${alert.evidence.length > 32 ? '…' : ''}` : '';
    const server = view.servers.find((s) => s.id === alert.reporter);
    const whole = server && server.api ? `${server.api.replace(/\/$/, '')}/v1/alerts?after=${Math.max(0, alert.id - 1)}&limit=1` : null;
    const details = h(
      'details',
      { class: 'report', 'data-key': key, open: openReports.has(key) },
      h(
        'summary',
        {},
        `Server ${alert.reporter}: ${alert.detail}`,
        alert.count > 1 ? ` (×${alert.count})` : '',
        ' · evidence ',
        alert.evidenceLength ? [`${alert.evidenceLength} bytes `, h('code', { text: preview })] : 'none',
      ),
      facts([
        ['Detected', [timeNode(alert.detectedAt), alert.count > 1 ? [' … ', timeNode(alert.lastDetectedAt)] : '']],
        ['Instance', alert.instance || '—'],
        ['Alert id', `${alert.id} in server ${alert.reporter}'s log`],
      ]),
      alert.evidenceLength ? h('code', { class: 'hex', text: alert.evidence }) : null,
      bytes < alert.evidenceLength
        ? h('p', { class: 'hint' }, `The first ${bytes} of ${alert.evidenceLength} bytes. `, whole ? h('a', { href: whole, text: 'The whole evidence (base64)' }) : null)
        : null,
    );
    details.addEventListener('toggle', () => {
      if (details.open) openReports.add(key);
      else openReports.delete(key);
    });
    return details;
  }

  function renderAlerts(view) {
    const groups = groupAlerts(view);
    const problems = view.servers.filter((server) => server.alertsProblem).map((server) => `server ${server.id}: ${server.alertsProblem}`);
    once('alerts', { groups, problems }, () => {
      document.getElementById('alerts-empty').hidden = groups.length > 0;
      replace('alerts', groups.map((group) => {
        const reporters = [...new Set(group.reports.map((r) => r.reporter))].sort((a, b) => a - b);
        return h(
          'li',
          { class: 'alert', 'data-type': group.type, 'data-culprit': group.culprit, 'data-period': group.period },
          h(
            'div',
            { class: 'alert-head' },
            h('span', { class: 'alert-type', text: group.type }),
            h('span', { text: group.culprit ? `culprit: server ${group.culprit}` : 'no culprit named' }),
            h('span', { text: `period ${group.period}` }),
            h('span', {}, timeNode(group.last)),
          ),
          h('p', { class: 'alert-meaning', text: ALERT_MEANINGS[group.type] || 'An alert type this page does not know.' }),
          h('p', { class: 'report', text: `Reported by server${reporters.length > 1 ? 's' : ''} ${reporters.join(', ')}` }),
          group.reports.map((alert) => report(alert, view)),
        );
      }), problems.map((p) => h('li', { class: 'hint', text: `Alerts missing from ${p}` })));
    });
  }

  function marker(shape, x, y, className, label) {
    const r = 4;
    let node;
    switch (shape) {
      case 'square': node = s('rect', { x: x - r, y: y - r, width: 2 * r, height: 2 * r }); break;
      case 'triangle': node = s('polygon', { points: `${x},${y - r - 1} ${x - r - 1},${y + r} ${x + r + 1},${y + r}` }); break;
      case 'diamond': node = s('polygon', { points: `${x},${y - r - 1} ${x + r + 1},${y} ${x},${y + r + 1} ${x - r - 1},${y}` }); break;
      case 'cross': node = s('path', { d: `M${x - r},${y - r}L${x + r},${y + r}M${x - r},${y + r}L${x + r},${y - r}`, 'stroke-width': 2.5 }); break;
      case 'plus': node = s('path', { d: `M${x - r},${y}L${x + r},${y}M${x},${y - r}L${x},${y + r}`, 'stroke-width': 2.5 }); break;
      case 'wedge': node = s('polygon', { points: `${x - r - 1},${y - r} ${x + r + 1},${y - r} ${x},${y + r + 1}` }); break;
      default: node = s('circle', { cx: x, cy: y, r });
    }
    node.setAttribute('class', className);
    if (label) node.append(s('title', {}, label));
    return node;
  }

  function niceCeiling(value) {
    if (value <= 0) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
      if (step * power >= value) return step * power;
    }
    return 10 * power;
  }

  function renderChart(view) {
    const series = view.servers
      .filter((server) => server.status && (server.status.refreshes || []).length)
      .map((server) => ({ id: server.id, points: [...server.status.refreshes].sort((a, b) => a.period - b.period) }));
    const periods = [...new Set(series.flatMap((line) => line.points.map((p) => p.period)))].sort((a, b) => a - b).slice(-CHART_PERIODS);
    // Drawn at the width it is shown at, so that its labels keep their size on a phone.
    const width = Math.round(Math.max(300, Math.min(960, document.getElementById('chart').clientWidth || 640)));
    once('chart', { series, periods, width }, () => {
      if (!periods.length) {
        replace('chart', h('p', { class: 'empty', text: 'No refresh seen yet (servers keep the durations of the refreshes they ran since they started).' }));
        replace('chart-legend');
        replace('chart-table');
        return;
      }
      const height = width < 500 ? 200 : 240;
      const left = 52;
      const right = 12;
      const top = 12;
      const bottom = 30;
      const first = periods[0];
      const last = periods[periods.length - 1];
      const shown = series.map((line) => ({ id: line.id, points: line.points.filter((p) => p.period >= first) }));
      const longest = Math.max(...shown.flatMap((line) => line.points.map((p) => p.durationMs)), 1);
      const ceiling = niceCeiling(longest);
      const x = (period) => left + (last === first ? (width - left - right) / 2 : ((period - first) / (last - first)) * (width - left - right));
      const y = (ms) => top + (1 - ms / ceiling) * (height - top - bottom);
      const worst = shown.flatMap((line) => line.points.map((p) => ({ id: line.id, ...p }))).reduce((a, b) => (b.durationMs > a.durationMs ? b : a));
      const summary = `Refresh durations of ${shown.length} server${shown.length > 1 ? 's' : ''} over periods ${first} to ${last}; the longest ${span(worst.durationMs)} (server ${worst.id}, period ${worst.period}).`;
      const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-labelledby': 'chart-summary' }, s('title', { id: 'chart-summary' }, summary));
      for (let i = 0; i <= 4; i++) {
        const value = (ceiling * i) / 4;
        svg.append(
          s('line', { class: 'grid', x1: left, x2: width - right, y1: y(value), y2: y(value) }),
          s('text', { class: 'label', x: left - 6, y: y(value) + 4, 'text-anchor': 'end' }, span(value)),
        );
      }
      const every = Math.max(1, Math.ceil(periods.length / Math.max(2, Math.floor(width / 60))));
      periods.forEach((period, i) => {
        if (i % every === 0 || period === last) svg.append(s('text', { class: 'label', x: x(period), y: height - 10, 'text-anchor': 'middle' }, String(period)));
      });
      svg.append(s('line', { class: 'axis', x1: left, x2: width - right, y1: y(0), y2: y(0) }), s('text', { class: 'label', x: width - right, y: height - 0.5, 'text-anchor': 'end' }, 'period'));
      for (const line of shown) {
        const colour = `s${line.id % 8}`;
        const shape = MARKERS[(line.id - 1) % MARKERS.length];
        // Consecutive periods are joined; a missing period breaks the line.
        let path = '';
        line.points.forEach((p, i) => {
          const joined = i > 0 && line.points[i - 1].period === p.period - 1;
          path += `${joined ? 'L' : 'M'}${x(p.period).toFixed(1)},${y(p.durationMs).toFixed(1)}`;
        });
        svg.append(s('path', { class: `series ${colour}`, d: path }));
        for (const p of line.points) svg.append(marker(shape, x(p.period), y(p.durationMs), colour, `Server ${line.id}, period ${p.period}: ${span(p.durationMs)}`));
      }
      replace('chart', svg);
      replace('chart-legend', shown.map((line) => {
        const colour = `s${line.id % 8}`;
        const icon = s('svg', { viewBox: '0 0 12 12', 'aria-hidden': 'true' }, marker(MARKERS[(line.id - 1) % MARKERS.length], 6, 6, colour));
        return h('span', {}, icon, `Server ${line.id}`);
      }));
      const rows = [...periods].reverse().map((period) => h('tr', {}, h('th', { scope: 'row', text: String(period) }), shown.map((line) => {
        const point = line.points.find((p) => p.period === period);
        return h('td', { class: 'num', text: point ? span(point.durationMs) : '—' });
      })));
      replace('chart-table', table(['Period', ...shown.map((line) => `Server ${line.id}`)], rows));
    });
  }

  function renderKeys(view) {
    const network = view.network;
    const answered = view.servers.filter((server) => server.status);
    const keys = [...new Set(answered.map((server) => server.status.networkKey).filter(Boolean))];
    const holders = (key) => answered.filter((server) => server.status.networkKey === key).map((server) => server.id);
    let agreement;
    if (!keys.length) agreement = 'no server holds a network key yet';
    else if (keys.length === 1) agreement = h('span', { class: 'agree', text: `✔ the same at every answering server (${holders(keys[0]).join(', ')})` });
    else agreement = h('span', { class: 'differ', text: `✖ servers disagree: ${keys.map((key) => `${short(key)} at ${holders(key).join(', ')}`).join('; ')}` });
    const tables = new Map();
    for (const server of answered) {
      for (const record of server.status.keyTables || []) {
        if (!tables.has(record.period)) tables.set(record.period, new Map());
        tables.get(record.period).set(server.id, record);
      }
    }
    const periods = [...tables.keys()].sort((a, b) => b - a).slice(0, KEYTABLE_PERIODS);
    const ids = view.servers.map((server) => server.id);
    once('keys', { network, keys: keys.map((key) => [key, holders(key)]), periods: periods.map((p) => [p, [...tables.get(p)]]) }, () => {
      replace('network', facts([
        ['Network key', keys.length ? h('code', { text: keys[0] }) : '—'],
        ['Agreement', agreement],
        ['Network id', network ? h('code', { text: network.network }) : '—'],
        ['Suite', network ? network.suite : '—'],
        ['Servers', network ? `n = ${network.serverCount}, t = ${network.threshold} (t + 1 = ${network.threshold + 1} sign), f = ${network.faults}` : '—'],
        ['Period length', network ? span(network.periodSeconds * 1000) : '—'],
      ]));
      const rows = periods.map((period) => {
        const byServer = tables.get(period);
        const fingerprints = [...new Set([...byServer.values()].map((r) => r.fingerprint))];
        const cells = ids.map((id) => {
          const record = byServer.get(id);
          if (!record) return h('td', { text: '—' });
          return h('td', {}, h('code', { title: record.fingerprint, text: short(record.fingerprint) }), record.ownKeysFingerprint ? h('div', { class: 'hint' }, 'own K: ', h('code', { title: record.ownKeysFingerprint, text: short(record.ownKeysFingerprint, 8) })) : null);
        });
        const verdict = fingerprints.length === 1
          ? h('td', { class: 'agree', text: `✔ ${byServer.size} agree` })
          : h('td', { class: 'differ', text: `✖ ${fingerprints.length} different tables` });
        return h('tr', {}, h('th', { scope: 'row', text: String(period) }), cells, verdict);
      });
      replace('keytables', rows.length ? table(['Period', ...ids.map((id) => `Server ${id}`), 'Agreement'], rows) : h('caption', { class: 'empty', text: 'No KeyTable decided yet (servers keep the ones they decided since they started).' }));
    });
  }

  function renderApplications(view) {
    const rows = view.servers.map((server) => {
      const counts = server.status && server.status.applications;
      const head = h('th', { scope: 'row', text: `Server ${server.id}` });
      if (!counts) {
        const why = server.status ? 'not following the ledger (not operational, or behind)' : 'no answer';
        return h('tr', {}, head, h('td', { colSpan: 5, class: 'hint', text: why }), h('td', { class: 'num', text: server.status ? String(server.status.alertCount) : '—' }));
      }
      return h('tr', {}, head, [counts.applications, counts.instances, counts.dataEntries, counts.secrets, counts.keys, server.status.alertCount].map((n) => h('td', { class: 'num', text: String(n) })));
    });
    once('apps', rows.map((row) => row.textContent), () => {
      replace('apps', table(['Server', 'Applications', 'Instances', 'Data entries', 'Secrets', 'Signing keys', 'Alerts stored'], rows));
    });
  }

  function renderLinks(view) {
    const ids = view.servers.map((server) => server.id);
    const rows = view.servers.filter((server) => server.status).map((server) => h('tr', {}, h('th', { scope: 'row', text: `Server ${server.id}` }), ids.map((id) => {
      if (id === server.id) return h('td', { text: '—' });
      const peer = (server.status.peers || []).find((p) => p.id === id);
      if (!peer) return h('td', { text: 'not a peer' });
      const text = peer.reachable ? '✔ yes' : peer.lastContactAt ? '✖ no' : '✖ no (never in contact)';
      return h('td', { class: peer.reachable ? 'agree' : 'differ', title: peer.lastContactAt ? `last contact ${peer.lastContactAt}` : 'never in contact', text });
    })));
    once('links', rows.map((row) => row.textContent), () => {
      replace('links', table(['From \\ to', ...ids.map((id) => `Server ${id}`)], rows));
    });
  }

  function render(view) {
    lastView = view;
    document.body.dataset.stale = 'false';
    renderSummary(view);
    renderServers(view);
    renderAlerts(view);
    renderChart(view);
    renderKeys(view);
    renderApplications(view);
    renderLinks(view);
    document.body.dataset.loaded = 'true';
  }

  function showProblem(problem) {
    document.body.dataset.stale = 'true';
    const since = lastView ? `; showing the view of ${clock(lastView.generatedAt)}` : '';
    setText('summary', `This server's API did not answer (${problem})${since}. Trying again…`, 'summary stale');
  }

  async function refresh() {
    try {
      const response = await fetch('/v1/network/status', { cache: 'no-store', headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      render(await response.json());
    } catch (problem) {
      showProblem(problem && problem.message ? problem.message : String(problem));
    } finally {
      setTimeout(refresh, REFRESH_MS);
    }
  }

  refresh();
})();
