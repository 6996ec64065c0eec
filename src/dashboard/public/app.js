// The dashboard's shell: sign-in, the header, and a hash router over the views (views.js).
import { closeLive, gql, live, RequestError, session } from './api.js';
import { alertsView, errorBox, h, jobsView, jobView, loadCatalog, videosView, webhooksView } from './views.js';

const main = document.getElementById('main');
const notice = document.getElementById('notice');
const nav = document.querySelector('nav');
const who = document.getElementById('who');
let cleanup = null;
let viewer = null;

function signInView(message) {
  nav.hidden = true;
  who.replaceChildren();
  const key = h('input', { type: 'password', id: 'api-key', autocomplete: 'off', required: true, placeholder: 'vq_…' });
  const form = h(
    'form',
    {
      class: 'sign-in',
      onSubmit: async (event) => {
        event.preventDefault();
        session.key = key.value.trim();
        await start();
      },
    },
    h('h2', { text: 'Sign in' }),
    h('label', { for: 'api-key', text: 'API key' }),
    key,
    h(
      'p',
      { class: 'hint' },
      'Kept for this browser tab only (sessionStorage). Create one with ',
      h('code', { text: 'npx vidq keys create --user USER_ID' }),
      '.',
    ),
    h('button', { type: 'submit', text: 'Sign in' }),
    message ? errorBox(message) : null,
  );
  main.replaceChildren(form);
  key.focus();
}

function signOut(message) {
  session.key = null;
  viewer = null;
  cleanup?.();
  cleanup = null;
  closeLive();
  signInView(message);
}

async function start() {
  if (!session.key) return signInView();
  try {
    viewer = (await gql('{ viewer { id name isAdmin credits } }')).viewer;
    await loadCatalog();
  } catch (error) {
    const code = error instanceof RequestError ? error.code : 'INTERNAL_ERROR';
    return signOut({ code, message: code === 'INVALID_API_KEY' ? 'That API key is not valid (unknown, revoked or disabled).' : error.message });
  }
  nav.hidden = false;
  for (const link of nav.querySelectorAll('[data-admin]')) link.hidden = !viewer.isAdmin;
  who.replaceChildren(
    h('span', { text: `${viewer.name}${viewer.isAdmin ? ' (admin)' : ''} · ${viewer.credits} credits ` }),
    h('button', { type: 'button', text: 'Sign out', onClick: () => signOut() }),
  );
  if (!location.hash || location.hash === '#/') location.hash = '#/videos';
  else await route();
}

// The socket was closed 4403: the key was revoked (or its user disabled) while the page was open.
live((reason) => signOut({ code: 'INVALID_API_KEY', message: `Your key was revoked: ${reason}`, nextStep: 'Sign in with a valid key.' }));

const go = (hash) => {
  location.hash = hash;
};

async function route() {
  if (!viewer) return;
  cleanup?.();
  cleanup = null;
  notice.textContent = '';
  const [, section, id] = location.hash.split('/');
  try {
    if (section === 'jobs' && id) cleanup = await jobView(main, go, id);
    else if (section === 'jobs') cleanup = await jobsView(main, go);
    else if (section === 'webhooks') cleanup = await webhooksView(main, go);
    else if (section === 'alerts' && viewer.isAdmin) cleanup = await alertsView(main, go);
    else cleanup = await videosView(main, go);
  } catch (error) {
    if (error instanceof RequestError && (error.code === 'INVALID_API_KEY' || error.code === 'UNAUTHENTICATED'))
      return signOut({ code: error.code, message: 'Your key was revoked or is no longer valid.' });
    main.replaceChildren(errorBox({ code: error.code ?? 'INTERNAL_ERROR', message: error.message }));
  }
  if (typeof cleanup !== 'function') cleanup = null;
}

window.addEventListener('hashchange', () => void route());
void start();
