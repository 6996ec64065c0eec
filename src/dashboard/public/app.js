// The dashboard's shell: sign-in, the header, and a hash router over the views (views.js).
import { closeLive, gql, onConnection, RequestError, session, whenKeyRefused } from './api.js';
import { alertsView, credits, errorBox, h, jobsView, jobView, loadCatalog, onAccountChanged, videosView, webhooksView } from './views.js';

const main = document.getElementById('main');
const notice = document.getElementById('notice');
const connection = document.getElementById('connection');
const nav = document.querySelector('nav');
const who = document.getElementById('who');
let cleanup = null;
let viewer = null;
let routing = 0; // the route being shown: a retry scheduled for an older one does nothing
let retryTimer = null;

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
  routing += 1;
  clearTimeout(retryTimer);
  cleanup?.();
  cleanup = null;
  closeLive();
  signInView(message);
}

function showWho() {
  who.replaceChildren(
    h('span', { text: `${viewer.name}${viewer.isAdmin ? ' (admin)' : ''} · ${credits(viewer.credits)} ` }),
    h('button', { type: 'button', text: 'Sign out', onClick: () => signOut() }),
  );
}

/** The header's credits: after a job ends or is submitted, and on every navigation. */
async function refreshViewer() {
  if (!viewer) return;
  const fresh = await gql('{ viewer { id name isAdmin credits } }').then(
    (data) => data.viewer,
    () => null, // unreachable or signed out: said elsewhere
  );
  if (!fresh || !viewer || fresh.id !== viewer.id) return;
  viewer = fresh;
  showWho();
}
onAccountChanged(() => void refreshViewer());

async function start() {
  if (!session.key) return signInView();
  try {
    viewer = (await gql('{ viewer { id name isAdmin credits } }')).viewer;
    await loadCatalog();
  } catch (error) {
    viewer = null;
    const code = error instanceof RequestError ? error.code : 'INTERNAL_ERROR';
    return signOut({
      code,
      message: code === 'INVALID_API_KEY' ? 'That API key is not valid (unknown, revoked or disabled).' : error.message,
      nextStep: error.nextStep,
    });
  }
  nav.hidden = false;
  for (const link of nav.querySelectorAll('[data-admin]')) link.hidden = !viewer.isAdmin;
  showWho();
  if (!location.hash || location.hash === '#/') location.hash = '#/videos';
  else await route();
}

// vidq refused the key (a request answered 401, or the socket closed 4403): the key was revoked, or its
// user disabled, while the page was open.
whenKeyRefused((error) => {
  if (!viewer) return; // signing in: start() says it
  const message = error.message.startsWith('Your key') ? error.message : `Your key is no longer valid (revoked or disabled): ${error.message}`;
  signOut({ code: error.code, message, nextStep: 'Sign in with a valid key.' });
});

// While the live connection is down, say so; the views refresh themselves when it comes back.
let reconnectedTimer = null;
onConnection(({ down }) => {
  clearTimeout(reconnectedTimer);
  if (down) {
    connection.textContent = 'Connection to vidq lost — reconnecting…';
    connection.className = 'connection down';
  } else {
    connection.textContent = 'Reconnected.';
    connection.className = 'connection up';
    reconnectedTimer = setTimeout(() => {
      connection.textContent = '';
      connection.className = 'connection';
    }, 3000);
  }
});

const go = (hash) => {
  location.hash = hash;
};

async function route() {
  if (!viewer) return;
  const mine = ++routing;
  clearTimeout(retryTimer);
  cleanup?.();
  cleanup = null;
  notice.textContent = '';
  const [, section, id] = location.hash.split('/');
  for (const link of nav.querySelectorAll('a')) {
    if (link.getAttribute('href') === `#/${section || 'videos'}`) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  void refreshViewer();
  let view = null;
  try {
    if (section === 'jobs' && id) view = await jobView(main, go, id);
    else if (section === 'jobs') view = await jobsView(main, go);
    else if (section === 'webhooks') view = await webhooksView(main, go);
    else if (section === 'alerts' && viewer.isAdmin) view = await alertsView(main, go);
    else view = await videosView(main, go);
  } catch (error) {
    if (typeof view === 'function') view();
    if (mine !== routing || !viewer) return; // moved on, or signed out
    if (error instanceof RequestError && error.code === 'SERVICE_UNAVAILABLE') return unavailable(mine, error);
    main.replaceChildren(errorBox({ code: error.code ?? 'INTERNAL_ERROR', message: error.message, detail: error.detail, nextStep: error.nextStep }));
    return;
  }
  if (mine !== routing) {
    if (typeof view === 'function') view(); // a later route replaced it while it loaded
    return;
  }
  cleanup = typeof view === 'function' ? view : null;
  focusHeading();
}

/** vidq did not answer while the page loaded: say so, and retry every few seconds (or at once, on Retry). */
function unavailable(mine, error) {
  const retry = h('button', { type: 'button', text: 'Retry', onClick: () => void route() });
  main.replaceChildren(
    h('h2', { text: 'vidq did not answer', tabindex: '-1' }),
    errorBox({ code: error.code, message: error.message, nextStep: 'Check that vidq is running. This page tries again every 5 seconds.' }),
    retry,
  );
  focusHeading();
  retryTimer = setTimeout(() => {
    if (mine === routing) void route();
  }, 5000);
}

/** After a route change or sign-in: the view's heading, so a screen reader starts there. */
function focusHeading() {
  const heading = main.querySelector('h2');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus({ preventScroll: true });
}

window.addEventListener('hashchange', () => void route());
void start();
