// The Server status panel: GET /api/stats every second while the panel is shown and
// the browser tab is visible, with a sparkline of messages per second.
import { byId, clock, setBadge } from '/console/ui.js';

const EVERY_MS = 1000;
const SPARK_SAMPLES = 120;
const SVG = 'http://www.w3.org/2000/svg';

function uptime(seconds) {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${m} min`;
  if (m > 0) return `${m} min ${s} s`;
  return `${s} s`;
}

function rate(value) {
  return value >= 100 ? Math.round(value).toLocaleString() : value.toFixed(1);
}

export function initStatus() {
  const badge = byId('status-state');
  const updated = byId('status-updated');
  const spark = byId('status-spark');
  const history = [];
  let shown = false;
  let timer = null;

  function drawSpark() {
    const max = Math.max(1, ...history);
    const width = 120 / SPARK_SAMPLES;
    spark.replaceChildren(...history.map((value, i) => {
      const bar = document.createElementNS(SVG, 'rect');
      const height = Math.max(0.5, (value / max) * 32);
      bar.setAttribute('x', String((SPARK_SAMPLES - history.length + i) * width));
      bar.setAttribute('y', String(32 - height));
      bar.setAttribute('width', String(width));
      bar.setAttribute('height', String(height));
      return bar;
    }));
  }

  async function refresh() {
    try {
      const response = await fetch('/api/stats', { cache: 'no-store' });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const stats = await response.json();
      for (const [field, value] of Object.entries(stats)) {
        const cell = document.getElementById(`stat-${field}`);
        if (!cell) continue;
        if (field === 'uptime_seconds') cell.textContent = uptime(value);
        else if (field === 'messages_per_second') cell.textContent = rate(value);
        else cell.textContent = value.toLocaleString();
      }
      history.push(stats.messages_per_second);
      if (history.length > SPARK_SAMPLES) history.shift();
      drawSpark();
      setBadge(badge, 'on', 'live');
      updated.textContent = `Updated ${clock()}.`;
    } catch (error) {
      setBadge(badge, 'error', 'server unreachable');
      updated.textContent = `Last try ${clock()} failed (${error.message}); retrying.`;
    }
  }

  function schedule() {
    const wanted = shown && document.visibilityState === 'visible';
    if (wanted && timer === null) {
      refresh();
      timer = setInterval(refresh, EVERY_MS);
    } else if (!wanted && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  }

  document.addEventListener('visibilitychange', schedule);
  return {
    visible(isShown) {
      shown = isShown;
      schedule();
    },
  };
}
