// Extensions UI kit: the little behaviour the CSS can't give. Plain ES module, no dependencies, no build step.
// Served at ../_sdk/ui-kit.js next to ui-kit.css. Call init() once (or the single helpers) after the markup exists.

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), '
  + 'textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Tabs (WAI-ARIA tabs pattern): one tab stop for the list, arrow keys move between tabs, Home/End jump, and moving
 * selects (automatic activation). Markup: .ui-tabs > [role=tablist] > [role=tab][aria-controls=panelId], panels [role=tabpanel].
 */
export function initTabs(container) {
  const list = container.querySelector('[role="tablist"]');
  if (!list || list.dataset.uiReady) return;
  list.dataset.uiReady = 'true';
  const tabs = () => [...list.querySelectorAll('[role="tab"]')];
  const select = (tab, focus) => {
    for (const t of tabs()) {
      const on = t === tab;
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(t.getAttribute('aria-controls'));
      if (panel) panel.hidden = !on;
    }
    if (focus) tab.focus();
    container.dispatchEvent(new CustomEvent('ui-tab-change', { detail: { tab } }));
  };
  select(tabs().find(t => t.getAttribute('aria-selected') === 'true') ?? tabs()[0], false);
  list.addEventListener('click', event => {
    const tab = event.target.closest('[role="tab"]');
    if (tab && list.contains(tab)) select(tab, true);
  });
  list.addEventListener('keydown', event => {
    const all = tabs();
    const at = all.indexOf(document.activeElement);
    if (at < 0) return;
    const vertical = list.getAttribute('aria-orientation') === 'vertical';
    const next = { [vertical ? 'ArrowDown' : 'ArrowRight']: at + 1, [vertical ? 'ArrowUp' : 'ArrowLeft']: at - 1, Home: 0, End: all.length - 1 }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    select(all[(next + all.length) % all.length], true);
  });
}

const openers = new WeakMap();

/**
 * Opens a <dialog class="ui-dialog">. Modal (the default) uses the browser's own focus containment and Escape; a non-modal
 * dialog gets a focus trap and Escape here. Focus goes to [autofocus] or the first focusable element, and back to the
 * element that had it when the dialog closes.
 */
export function openDialog(dialog, { modal = true } = {}) {
  if (dialog.open) return;
  openers.set(dialog, document.activeElement);
  if (modal) dialog.showModal(); else dialog.show();
  (dialog.querySelector('[autofocus]') ?? dialog.querySelector(FOCUSABLE) ?? dialog).focus();
  if (!dialog.dataset.uiReady) {
    dialog.dataset.uiReady = 'true';
    dialog.addEventListener('keydown', event => trapKeys(dialog, event));
    dialog.addEventListener('close', () => {
      const opener = openers.get(dialog);
      if (opener && opener.isConnected) opener.focus();
    });
  }
}

export function closeDialog(dialog, value) {
  if (dialog.open) dialog.close(value);
}

function trapKeys(dialog, event) {
  if (event.key === 'Escape') {
    event.preventDefault();
    closeDialog(dialog, 'cancel');
    return;
  }
  if (event.key !== 'Tab') return;
  const items = [...dialog.querySelectorAll(FOCUSABLE)].filter(e => e.offsetParent !== null || e === document.activeElement);
  if (items.length === 0) { event.preventDefault(); return; }
  const first = items[0];
  const last = items[items.length - 1];
  if (event.shiftKey && document.activeElement === first) { event.preventDefault(); last.focus(); }
  else if (!event.shiftKey && document.activeElement === last) { event.preventDefault(); first.focus(); }
}

/**
 * Wires everything under `root`: every .ui-tabs, buttons with data-ui-open="dialogId" (data-ui-modal="false" for non-modal)
 * and buttons with data-ui-close inside a dialog.
 */
export function init(root = document) {
  for (const tabs of root.querySelectorAll('.ui-tabs')) initTabs(tabs);
  root.addEventListener('click', event => {
    const opener = event.target.closest('[data-ui-open]');
    if (opener) {
      const dialog = document.getElementById(opener.dataset.uiOpen);
      if (dialog instanceof HTMLDialogElement) openDialog(dialog, { modal: opener.dataset.uiModal !== 'false' });
      return;
    }
    const closer = event.target.closest('[data-ui-close]');
    const dialog = closer?.closest('dialog');
    if (dialog) closeDialog(dialog, closer.dataset.uiClose || 'close');
  });
}
