// Summary cards (today) and the 7-day outcomes chart. The numbers come from GET /api/calls/stats when the
// server offers it; a server without that route gets them computed here from the Call view's last 7 days
// (loaded once, then kept current by /ws through the CallStore). Either way they refresh as calls change.

import { api, ApiError, query } from './api.js';
import { el, svg, clear } from './dom.js';
import { UNREACHABLE, localDay, rowTime } from './format.js';

const SERIES = [
  { key: 'confirmed', label: 'Confirmed', tone: 'ok' },
  { key: 'cancelled', label: 'Cancelled', tone: 'bad' },
  { key: 'voicemail', label: 'Voicemail', tone: 'info' },
  { key: 'unreachable', label: 'Unreachable', tone: 'warn' },
  { key: 'other', label: 'No key / in progress', tone: 'muted' },
];

const DAY_MS = 86400000;

export class Summary {
  constructor({ cards, chart, store }) {
    this.cards = cards;
    this.chart = chart;
    this.store = store;
    this.mode = 'server';
    this.timer = null;
    store.onChange(() => this.refreshSoon());
  }

  async start() {
    try {
      await this.refresh();
    } catch (error) {
      if (!(error instanceof ApiError) || (error.status !== 404 && error.status !== 405)) throw error;
      this.mode = 'local';
      await this.loadWeek();
      this.refresh();
    }
  }

  // Pages through the Call view back to 7 days ago (capped: the cards are a glance, not a report).
  async loadWeek() {
    const since = startOfDay(Date.now() - 6 * DAY_MS);
    let cursor = '';
    for (let page = 0; page < 20; page++) {
      const reply = await api.get('/api/calls' + query({ since, cursor, limit: 500 }));
      for (const row of reply.data) this.store.upsert(row);
      if (!reply.nextCursor) break;
      cursor = reply.nextCursor;
    }
  }

  refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.refresh().catch(() => {});
    }, this.mode === 'local' ? 100 : 1000);
  }

  async refresh() {
    const numbers = this.mode === 'local' ? this.computeLocally() : fromServer((await api.get('/api/calls/stats')).data);
    this.renderCards(numbers.today);
    this.renderChart(numbers.week);
  }

  computeLocally() {
    const days = lastSevenDays();
    const byDay = new Map(days.map((date) => [date, { date, calls: 0, confirmed: 0, cancelled: 0, voicemail: 0, unreachable: 0, other: 0 }]));
    for (const row of this.store.rows.values()) {
      const day = byDay.get(localDay(new Date(rowTime(row, 'created'))));
      if (!day) continue;
      day.calls += 1;
      day[group(row.outcome)] += 1;
    }
    const today = byDay.get(days[days.length - 1]);
    return { today: { ...today }, week: [...byDay.values()] };
  }

  renderCards(today) {
    const card = (key, label, value, toneName) =>
      el('div', { class: `card tone-${toneName}`, dataset: { card: key } },
        el('span', { class: 'card-label' }, label),
        el('strong', { class: 'card-value' }, String(value ?? 0)));
    clear(this.cards).append(
      card('calls', 'Calls today', today.calls, 'muted'),
      card('confirmed', 'Confirmed', today.confirmed, 'ok'),
      card('cancelled', 'Cancelled', today.cancelled, 'bad'),
      card('voicemail', 'Voicemail', today.voicemail, 'info'),
      card('unreachable', 'Unreachable', today.unreachable, 'warn'),
    );
  }

  renderChart(week) {
    const width = 700, height = 240, left = 36, bottom = 40, top = 12, right = 8;
    const plotH = height - top - bottom;
    const max = niceMax(Math.max(1, ...week.map((d) => d.calls)));
    const slot = (width - left - right) / week.length;
    const barW = Math.min(56, slot * 0.6);
    const y = (v) => top + plotH - (v / max) * plotH;
    const grid = [0, 0.25, 0.5, 0.75, 1].map((f) => {
      const v = Math.round(max * f);
      return svg('g', { class: 'grid' },
        svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v) }),
        svg('text', { x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, String(v)));
    });
    const bars = week.map((day, i) => {
      const x = left + slot * i + (slot - barW) / 2;
      let base = 0;
      const parts = SERIES.filter((s) => day[s.key] > 0).map((s) => {
        const h = (day[s.key] / max) * plotH;
        base += day[s.key];
        return svg('rect', { class: `bar tone-${s.tone}`, x, y: y(base), width: barW, height: Math.max(h, 1), rx: 3 },
          svg('title', {}, `${day.date}: ${day[s.key]} ${s.label.toLowerCase()}`));
      });
      const label = new Date(`${day.date}T12:00:00`).toLocaleDateString(undefined, { weekday: 'short' });
      return svg('g', { class: 'day', 'data-date': day.date, 'data-calls': day.calls }, ...parts,
        svg('text', { class: 'axis', x: x + barW / 2, y: height - bottom + 18, 'text-anchor': 'middle' }, label),
        svg('text', { class: 'axis dim', x: x + barW / 2, y: height - bottom + 32, 'text-anchor': 'middle' }, day.date.slice(5)));
    });
    const used = SERIES.filter((s) => week.some((d) => d[s.key] !== undefined));
    clear(this.chart).append(
      svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'Call outcomes per day, last 7 days' }, ...grid, ...bars),
      el('ul', { class: 'legend' }, used.map((s) => el('li', {}, el('span', { class: `swatch tone-${s.tone}` }), s.label))),
    );
  }
}

function group(outcome) {
  if (outcome === 'confirmed' || outcome === 'cancelled' || outcome === 'voicemail') return outcome;
  if (UNREACHABLE.has(outcome)) return 'unreachable';
  return 'other';
}

// The server's stats shape, mapped onto the chart's series (it does not split voicemail per day).
function fromServer(data) {
  const t = data.today || {};
  const today = {
    calls: t.totalCalls, confirmed: t.confirmedAppointments, cancelled: t.cancelledAppointments,
    voicemail: t.voicemailRequests, unreachable: t.failedCalls,
  };
  const week = (data.weekly || []).map((d) => ({
    date: d.date, calls: d.calls, confirmed: d.confirmed, cancelled: d.cancelled,
    other: Math.max(0, d.calls - d.confirmed - d.cancelled),
  }));
  return { today, week };
}

function lastSevenDays() {
  const out = [];
  for (let i = 6; i >= 0; i--) {
    const d = new Date();
    d.setHours(12, 0, 0, 0); // noon: stepping whole days never lands on the wrong date across DST
    d.setDate(d.getDate() - i);
    out.push(localDay(d));
  }
  return out;
}

function startOfDay(ms) {
  const d = new Date(ms);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

function niceMax(n) {
  const step = 10 ** Math.floor(Math.log10(n));
  for (const f of [1, 2, 2.5, 5, 10]) if (f * step >= n) return Math.max(4, f * step);
  return n;
}
