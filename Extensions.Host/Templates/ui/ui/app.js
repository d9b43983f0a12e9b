// The page runs in a sandboxed iframe on this extension's own origin. It reaches its server side only through the
// console's bridge: api('/hello/Ada') becomes GET /api/ext/{{publisher}}.{{name}}/hello/Ada with the signed-in user's session.
// The iframe SDK is served by the host next to every installed bundle, at ../_sdk/iframe.js from ui/.
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
  const ctx = await ready(); // the handshake: context (user, tenant) and theme from the console
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
