// Greets through the console bridge: the call goes to this extension's own GET /hello/:name with the user's session.
import { ready, api, onTheme } from '../_sdk/iframe.js';

const who = document.getElementById('who');
const greeting = document.getElementById('greeting');
const theme = document.getElementById('theme');

async function greet(name) {
  greeting.textContent = '…';
  try {
    const response = await api('/hello/' + encodeURIComponent(name || 'world'));
    greeting.textContent = response.ok ? response.json().message : `The extension answered ${response.status}`;
  } catch (error) {
    greeting.textContent = `Refused: ${error.message}`;
  }
}

try {
  const ctx = await ready();
  who.textContent = `Signed in as ${ctx.user.name} (tenant ${ctx.tenant}).`;
  theme.textContent = ctx.theme.mode;
  onTheme(t => { theme.textContent = t.mode; });
  document.getElementById('greet').addEventListener('submit', event => {
    event.preventDefault();
    greet(document.getElementById('name').value.trim());
  });
  await greet('world');
} catch (error) {
  who.textContent = `Not connected: ${error.message}`;
}
