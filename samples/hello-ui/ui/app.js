// Greets through the console bridge: the call goes to this extension's own GET /hello/:name with the user's session.
// The page is styled by the host's UI kit; each answer adds a row to the table, and the SDK resizes the frame to fit.
import { ready, api, onTheme } from '../_sdk/iframe.js';
import { init } from '../_sdk/ui-kit.js';

const who = document.getElementById('who');
const greeting = document.getElementById('greeting');
const theme = document.getElementById('theme');
const history = document.getElementById('history');

function remember(answer, status) {
  const row = history.insertRow();
  const number = document.createElement('th');
  number.scope = 'row';
  number.textContent = String(history.rows.length);
  row.append(number);
  row.insertCell().textContent = answer;
  row.insertCell().textContent = String(status);
}

async function greet(name) {
  greeting.textContent = '…';
  try {
    const response = await api('/hello/' + encodeURIComponent(name || 'world'));
    greeting.textContent = response.ok ? response.json().message : `The extension answered ${response.status}`;
    remember(greeting.textContent, response.status);
  } catch (error) {
    greeting.textContent = `Refused: ${error.message}`;
  }
}

init();
try {
  const ctx = await ready();
  who.textContent = `Signed in as ${ctx.user.name} (tenant ${ctx.tenant}).`;
  who.classList.add('ui-alert-ok');
  theme.textContent = ctx.theme.mode;
  onTheme(t => { theme.textContent = t.mode; });
  document.getElementById('greet').addEventListener('submit', event => {
    event.preventDefault();
    greet(document.getElementById('name').value.trim());
  });
  await greet('world');
} catch (error) {
  who.textContent = `Not connected: ${error.message}`;
  who.classList.add('ui-alert-danger');
}
