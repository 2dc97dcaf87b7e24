// The console's entry point: the tabs (ARIA tab pattern: arrow keys move between tabs,
// the URL's #fragment names the open one so a panel can be linked or opened in a new
// tab; panels' ids are `panel-NAME`, so the fragment does not scroll the page) and each
// panel's start.
import { initPair } from '/console/pair.js';
import { initRooms } from '/console/rooms.js';
import { initSignal } from '/console/signal.js';
import { initStatus } from '/console/status.js';

const panels = {
  pair: initPair(),
  rooms: initRooms(),
  signal: initSignal(),
  status: initStatus(),
};

const tabs = [...document.querySelectorAll('[role="tab"]')];
const panelOf = (tab) => tab.getAttribute('aria-controls').replace('panel-', '');

function select(name, { focus = false } = {}) {
  if (!(name in panels)) name = 'pair';
  for (const tab of tabs) {
    const panelName = panelOf(tab);
    const selected = panelName === name;
    tab.setAttribute('aria-selected', String(selected));
    tab.tabIndex = selected ? 0 : -1;
    document.getElementById(`panel-${panelName}`).hidden = !selected;
    if (selected && focus) tab.focus();
    panels[panelName].visible?.(selected);
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
}

for (const tab of tabs) {
  tab.addEventListener('click', () => select(panelOf(tab)));
  tab.addEventListener('keydown', (event) => {
    const index = tabs.indexOf(tab);
    const moves = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const next = tabs[(moves[event.key] + tabs.length) % tabs.length];
    select(panelOf(next), { focus: true });
  });
}

window.addEventListener('hashchange', () => select(location.hash.slice(1)));
select(location.hash.slice(1));
