// V2X driver HMI: draws the state pushed by HmiServer over the websocket /ws (docs/hmi.md).
'use strict';

(function () {
  const canvas = document.getElementById('map');
  const g = canvas.getContext('2d');
  const el = (id) => document.getElementById(id);
  const LIGHT_COLOURS = {
    red: '#e53935', flashing_red: '#e53935', yellow: '#fbc02d', flashing_yellow: '#fbc02d',
    protected_green: '#43a047', permissive_green: '#43a047', flashing_green: '#43a047',
  };
  const CLASS_COLOURS = {
    pedestrian: '#ff9800', cyclist: '#ff9800', motorcycle: '#e58ae5', emergency: '#e040fb',
    truck: '#5fb3b3', obstacle: '#9e9e9e',
  };
  const TARGET_COLOUR = '#35c6e0';
  const EGO_COLOUR = '#3b6cff';
  const WARNED_COLOUR = '#ff1f1f';

  let map = { lanes: [], boundaries: [], stop_lines: [], bounds: [[-50, -50], [50, 50]] };
  let state = null;
  let follow = true;
  let zoom = 1.0;
  let drawPending = false;
  let retryMs = 500;

  const fmt = (v, digits) => (v === null || v === undefined ? '–' : v.toFixed(digits));
  const kmh = (mps) => (mps === null || mps === undefined ? '–' : (mps * 3.6).toFixed(0));

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    setConn('connecting…', 'conn-wait');
    ws.onopen = () => { retryMs = 500; setConn('live', 'conn-ok'); };
    ws.onmessage = (ev) => {
      let msg;
      try { msg = JSON.parse(ev.data); } catch (err) { console.error('bad message', err); return; }
      if (msg.type === 'map') { map = msg; scheduleDraw(); }
      else if (msg.type === 'state') { state = msg; updatePanels(); scheduleDraw(); }
    };
    ws.onclose = () => {
      setConn('disconnected – retrying', 'conn-lost');
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 5000);
    };
  }

  function setConn(text, cls) {
    const c = el('conn');
    c.textContent = text;
    c.className = `conn ${cls}`;
  }

  // --- panels ------------------------------------------------------------------------------
  function updatePanels() {
    const s = state;
    el('clock').textContent = s.t === null || s.t === undefined ? 't = –' : `t = ${s.t.toFixed(1)} s`;
    el('speed').textContent = s.ego ? kmh(s.ego.speed) : '–';
    showWarning(s.warning);
    showAdvice(s.advice);
    showSignals(s.signals || [], s.advice);
    showTargets(s.targets || [], s.ego);
  }

  function showWarning(w) {
    const box = el('warning');
    document.body.dataset.warning = w ? w.application : '';
    if (!w) { box.hidden = true; box.className = 'warning level-0'; return; }
    box.hidden = false;
    box.className = `warning level-${w.level}`;
    el('warning-app').textContent = `${w.application} · ${w.level_name}`;
    el('warning-text').textContent = w.text || '';
    const meta = [];
    if (w.ttc !== null) meta.push(`TTC ${w.ttc.toFixed(1)} s`);
    if (w.distance !== null) meta.push(`${w.distance.toFixed(0)} m`);
    if (w.target_id) meta.push(`target ${w.target_id}`);
    el('warning-meta').textContent = meta.join(' · ');
  }

  function showAdvice(a) {
    const box = el('advice');
    if (!a) { box.className = 'advice'; box.textContent = 'no speed advice'; return; }
    box.className = a.stop ? 'advice stop' : 'advice';
    box.textContent = '';
    const rec = document.createElement('div');
    rec.className = 'rec';
    if (a.stop) rec.textContent = `${a.application}: STOP`;
    else if (a.recommended_speed !== null) rec.textContent = `${a.application}: ${kmh(a.recommended_speed)} km/h`;
    else rec.textContent = a.application;
    box.appendChild(rec);
    const detail = document.createElement('div');
    const parts = [];
    if (a.min_speed !== null && a.max_speed !== null) parts.push(`${kmh(a.min_speed)}–${kmh(a.max_speed)} km/h`);
    if (a.distance !== null) parts.push(`in ${a.distance.toFixed(0)} m`);
    if (a.text) parts.push(a.text);
    detail.textContent = parts.join(' · ');
    box.appendChild(detail);
  }

  function showSignals(signals, advice) {
    const box = el('signals');
    box.textContent = '';
    if (signals.length === 0) {
      box.innerHTML = '<div class="empty">no SPAT received</div>';
      return;
    }
    for (const sig of signals) {
      const isect = document.createElement('div');
      isect.className = 'isect';
      const title = document.createElement('div');
      title.textContent = `Intersection ${sig.intersection_id}` + (sig.region ? ` (region ${sig.region})` : '');
      isect.appendChild(title);
      for (const ph of sig.phases) {
        const row = document.createElement('div');
        row.className = 'phase' + (advice && advice.phase_id === ph.id ? ' advised' : '');
        row.dataset.phase = ph.id;
        const lamp = document.createElement('span');
        lamp.className = `lamp ${ph.light}`;
        const name = document.createElement('span');
        name.textContent = `phase ${ph.id} ${ph.light.replace('_', ' ')}`;
        const left = document.createElement('span');
        left.className = 'left';
        left.textContent = ph.remaining === null ? '–' : `${Math.ceil(ph.remaining)} s`;
        row.append(lamp, name, left);
        isect.appendChild(row);
      }
      box.appendChild(isect);
    }
  }

  function showTargets(targets, ego) {
    el('target-count').textContent = String(targets.length);
    const list = el('targets');
    list.textContent = '';
    const dist = (t) => (ego ? Math.hypot(t.x - ego.x, t.y - ego.y) : 0);
    const sorted = targets.slice().sort((a, b) => (b.warned - a.warned) || (dist(a) - dist(b)));
    for (const t of sorted.slice(0, 12)) {
      const li = document.createElement('li');
      if (t.warned) li.className = 'warned';
      li.textContent = `${t.key} ${t.class} ${kmh(t.speed)} km/h` + (ego ? ` · ${dist(t).toFixed(0)} m` : '');
      list.appendChild(li);
    }
  }

  // --- map ------------------------------------------------------------------------------
  function scheduleDraw() {
    if (!drawPending) { drawPending = true; requestAnimationFrame(draw); }
  }

  function view(w, h) {
    const b = map.bounds || [[-50, -50], [50, 50]];
    const ego = state && state.ego;
    if (follow && ego) {
      return { cx: ego.x, cy: ego.y, scale: (Math.min(w, h) / 90) * zoom };
    }
    const spanX = Math.max(b[1][0] - b[0][0], 20);
    const spanY = Math.max(b[1][1] - b[0][1], 20);
    return {
      cx: (b[0][0] + b[1][0]) / 2, cy: (b[0][1] + b[1][1]) / 2,
      scale: Math.min(w / spanX, h / spanY) * 0.92 * zoom,
    };
  }

  function draw() {
    drawPending = false;
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr); canvas.height = Math.round(h * dpr);
    }
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = '#1d2227';
    g.fillRect(0, 0, w, h);
    const v = view(w, h);
    // world (ENU, metres) -> screen: y up
    g.translate(w / 2, h / 2);
    g.scale(v.scale, -v.scale);
    g.translate(-v.cx, -v.cy);
    const px = 1 / v.scale;
    drawLanes(px);
    drawStopLines(px);
    if (state) {
      for (const t of state.targets || []) drawTarget(t, px);
      if (state.ego) drawBox(state.ego, EGO_COLOUR, px, true);
    }
    drawScale(w, h, v.scale);
  }

  function polyline(points) {
    g.beginPath();
    points.forEach((p, i) => (i ? g.lineTo(p[0], p[1]) : g.moveTo(p[0], p[1])));
  }

  function drawLanes(px) {
    g.fillStyle = '#3a4047';
    for (const lane of map.lanes || []) {
      polyline(lane.left.concat(lane.right.slice().reverse()));
      g.closePath();
      g.fill();
    }
    g.strokeStyle = '#d8d8d8';
    g.lineWidth = 1.5 * px;
    for (const line of map.boundaries || []) { polyline(line); g.stroke(); }
  }

  function lightOf(group) {
    if (!state || !group) return null;
    for (const sig of state.signals || []) {
      for (const ph of sig.phases) if (ph.id === group) return ph.light;
    }
    return null;
  }

  function drawStopLines(px) {
    g.lineWidth = 5 * px;
    for (const s of map.stop_lines || []) {
      const light = lightOf(s.signal_group);
      g.strokeStyle = (light && LIGHT_COLOURS[light]) || '#bdbdbd';
      polyline(s.points);
      g.stroke();
    }
  }

  function drawBox(o, colour, px, isEgo) {
    g.save();
    g.translate(o.x, o.y);
    g.rotate(o.yaw || 0);
    const L = Math.max(o.length || 4.5, 0.5), W = Math.max(o.width || 1.8, 0.5);
    g.fillStyle = colour;
    g.fillRect(-L / 2, -W / 2, L, W);
    g.strokeStyle = isEgo ? '#ffffff' : '#0b0d0f';
    g.lineWidth = 1.5 * px;
    g.strokeRect(-L / 2, -W / 2, L, W);
    // nose: a triangle at the front
    g.fillStyle = isEgo ? '#ffffff' : 'rgba(0,0,0,0.55)';
    g.beginPath();
    g.moveTo(L / 2, 0); g.lineTo(L / 2 - Math.min(1.2, L / 3), W / 3);
    g.lineTo(L / 2 - Math.min(1.2, L / 3), -W / 3); g.closePath(); g.fill();
    g.restore();
  }

  function drawTarget(t, px) {
    const colour = t.warned ? WARNED_COLOUR : (CLASS_COLOURS[t.class] || TARGET_COLOUR);
    drawBox(t, colour, px, false);
    if (t.warned) {
      g.strokeStyle = WARNED_COLOUR;
      g.lineWidth = 2 * px;
      g.beginPath();
      g.arc(t.x, t.y, Math.max(t.length || 4, 3), 0, 2 * Math.PI);
      g.stroke();
    }
    // above the box, or above the ring around a warned target
    const above = t.warned ? Math.max(t.length || 4, 3) + 6 * px : (t.width || 2) / 2 + 6 * px;
    label(t.x, t.y + above, t.key, px, t.warned ? WARNED_COLOUR : '#e6e6e6');
  }

  function label(x, y, text, px, colour) {
    g.save();
    g.translate(x, y);
    g.scale(px, -px); // back to screen pixels, y down
    g.font = '12px system-ui, sans-serif';
    g.textAlign = 'center';
    g.fillStyle = colour;
    g.fillText(text, 0, 0);
    g.restore();
  }

  function drawScale(w, h, scale) {
    g.setTransform(window.devicePixelRatio || 1, 0, 0, window.devicePixelRatio || 1, 0, 0);
    const metres = [1, 2, 5, 10, 20, 50, 100, 200, 500].find((m) => m * scale >= 60) || 1000;
    const len = metres * scale;
    g.strokeStyle = '#e6e6e6'; g.lineWidth = 2;
    g.beginPath(); g.moveTo(16, h - 18); g.lineTo(16 + len, h - 18); g.stroke();
    g.fillStyle = '#e6e6e6'; g.font = '12px system-ui, sans-serif';
    g.fillText(`${metres} m`, 16, h - 24);
  }

  canvas.addEventListener('wheel', (ev) => {
    ev.preventDefault();
    zoom = Math.min(20, Math.max(0.05, zoom * (ev.deltaY < 0 ? 1.2 : 1 / 1.2)));
    scheduleDraw();
  }, { passive: false });
  window.addEventListener('keydown', (ev) => {
    if (ev.key === 'f' || ev.key === 'F') { follow = !follow; zoom = 1.0; scheduleDraw(); }
  });
  window.addEventListener('resize', scheduleDraw);
  scheduleDraw();
  connect();
})();
