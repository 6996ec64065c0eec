// The dashboard's views. Plain DOM, no framework: h() builds elements; each view renders into <main>
// and returns a cleanup (its live subscriptions, timers) for when the page moves on.
import { errorOf, gql, onReconnect, RequestError, subscribe, upload } from './api.js';

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'text') el.textContent = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== null && child !== undefined && child !== false) el.append(child instanceof Node ? child : String(child));
  return el;
}

let catalog = new Map();
export async function loadCatalog() {
  const data = await gql('{ errorCatalog { code message description } }');
  catalog = new Map(data.errorCatalog.map((e) => [e.code, e]));
}

export const credits = (n) => `${n} credit${n === 1 ? '' : 's'}`;

// The header's credits change when a job is submitted, ends or is retried: the shell refreshes them.
const accountListeners = new Set();
export function onAccountChanged(handler) {
  accountListeners.add(handler);
}
function accountChanged() {
  for (const handler of accountListeners) handler();
}

/** An error member or request error, with what to do next (the catalog's description). */
export function errorBox(error) {
  const next = error.nextStep ?? catalog.get(error.code)?.description;
  return h(
    'div',
    { class: 'error', role: 'alert' },
    h('strong', { text: error.code }),
    ' ',
    h('span', { text: error.message }),
    error.detail ? h('div', { class: 'detail', text: error.detail }) : null,
    error.fieldErrors?.length
      ? h(
          'ul',
          {},
          error.fieldErrors.map((f) => h('li', { text: `${f.path.join('.')}: ${f.message}` })),
        )
      : null,
    next ? h('div', { class: 'next' }, h('span', { text: 'Next step: ' }), next) : null,
    error.jobId ? h('div', { class: 'next' }, h('a', { href: `#/jobs/${error.jobId}`, text: `Open job ${error.jobId}` })) : null,
  );
}

/** A failure the page already handled by signing out: nothing to show beside the control. */
const signedOut = (error) => error instanceof RequestError && (error.code === 'INVALID_API_KEY' || error.code === 'UNAUTHENTICATED');

/**
 * Runs a control's action: the control is disabled meanwhile and enabled again after; a failure — a
 * typed error the action returns, or a request that failed (vidq down, key refused) — is shown in `slot`.
 */
async function perform(button, slot, action) {
  button.disabled = true;
  slot.replaceChildren();
  try {
    await action();
  } catch (error) {
    if (!signedOut(error)) slot.replaceChildren(errorBox(error instanceof Error && !error.code ? { code: 'INTERNAL_ERROR', message: error.message } : error));
  } finally {
    button.disabled = false;
  }
}

let ids = 0;
const uid = (prefix) => `${prefix}-${++ids}`;
export function progressBar(label, fraction) {
  const bar = h('div', {
    role: 'progressbar',
    'aria-label': label,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': Math.round(fraction * 100),
    class: 'bar',
  });
  const fill = h('div', { class: 'fill' });
  fill.style.width = `${Math.round(fraction * 100)}%`; // CSSOM, not a style attribute: the CSP forbids inline styles
  bar.append(fill);
  return bar;
}

function setProgress(bar, fraction) {
  const percent = Math.round(fraction * 100);
  bar.setAttribute('aria-valuenow', String(percent));
  bar.firstChild.style.width = `${percent}%`;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const mb = (bytes) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`);
const ERROR = '... on Error { __typename code message detail } ';
const FIELDS = '... on InvalidInputError { fieldErrors { path message } }';

// ───────────────────────────── videos ─────────────────────────────

const VIDEO = 'id filename title format sizeBytes createdAt metadata { durationSeconds width height videoCodec }';

export async function videosView(main, go) {
  const status = h('div', { 'aria-live': 'polite' });
  const file = h('input', { type: 'file', id: 'video-file', accept: 'video/*,.mp4,.mov,.avi,.mkv,.webm' });
  const title = h('input', { type: 'text', id: 'video-title' });
  const list = h('ul', { class: 'videos', 'aria-label': 'Videos' });
  let after = null;
  const more = h('button', { type: 'button', text: 'Load more', hidden: true, onClick: () => perform(more, status, () => load()) });

  async function load(reset = false) {
    const data = await gql(
      `query($after: String) { videos(first: 20, after: $after) { __typename ... on VideoConnection { nodes { ${VIDEO} } pageInfo { hasNextPage endCursor } } ${ERROR} } }`,
      { after: reset ? null : after },
    );
    if (reset) list.replaceChildren();
    const error = errorOf(data.videos);
    if (error) return status.replaceChildren(errorBox(error));
    for (const video of data.videos.nodes) list.append(videoItem(video, go, () => load(true)));
    after = data.videos.pageInfo.endCursor;
    more.hidden = !data.videos.pageInfo.hasNextPage;
    if (!list.children.length) list.append(h('li', { class: 'empty', text: 'No videos yet: upload one above.' }));
  }

  async function send(event) {
    event.preventDefault();
    const chosen = file.files?.[0];
    if (!chosen) return status.replaceChildren(h('div', { class: 'error', role: 'alert', text: 'Choose a video file first (mp4, mov, avi, mkv or webm).' }));
    const bar = progressBar(`Uploading ${chosen.name}`, 0);
    status.replaceChildren(h('div', { text: `Uploading ${chosen.name} (${mb(chosen.size)})…` }), bar);
    submit.disabled = true;
    try {
      const uploadId = await upload(chosen, { onProgress: (sent, total) => setProgress(bar, total ? sent / total : 0) });
      status.replaceChildren(h('div', { text: 'Checking the video…' }));
      const data = await gql(
        `mutation($input: CreateVideoFromUploadInput!) { createVideoFromUpload(input: $input) { __typename ... on UploadVideoSuccess { video { id filename } } ${ERROR} ${FIELDS} } }`,
        {
          input: { uploadId, title: title.value.trim() || null },
        },
      );
      const error = errorOf(data.createVideoFromUpload);
      if (error) return status.replaceChildren(errorBox(error));
      status.replaceChildren(h('div', { class: 'ok', text: `Uploaded ${data.createVideoFromUpload.video.filename}.` }));
      form.reset();
      await load(true);
    } catch (error) {
      if (!signedOut(error)) status.replaceChildren(errorBox(error));
    } finally {
      submit.disabled = false;
    }
  }

  const submit = h('button', { type: 'submit', text: 'Upload' });
  const form = h(
    'form',
    { class: 'upload', onSubmit: send },
    h('h2', { text: 'Upload a video' }),
    h('label', { for: 'video-file', text: 'Video file' }),
    file,
    h('label', { for: 'video-title', text: 'Title (optional)' }),
    title,
    h('p', { class: 'hint', text: 'Drop a file on the field or choose one. Uploads resume after a dropped connection.' }),
    submit,
  );
  main.replaceChildren(form, status, h('h2', { text: 'Videos' }), list, more);
  await load(true);
}

function videoItem(video, go, reload) {
  const m = video.metadata;
  const slot = h('div');
  const note = h('div');
  const name = video.title ?? video.filename;
  // Each video's buttons share their names ("Submit job", "Delete"): their description says which video.
  const nameId = uid('video-name');
  // One "Submit job" button per video at any time (the contract's name): this one opens the form and is
  // hidden while the form is open, whose own submit button takes the name; Cancel brings this one back.
  const opener = h('button', { type: 'button', text: 'Submit job', 'aria-describedby': nameId, onClick: () => open() });
  const open = () => {
    const form = jobForm(video, go, close, nameId);
    opener.hidden = true;
    note.replaceChildren();
    slot.replaceChildren(form);
    form.querySelector('select')?.focus();
  };
  const close = () => {
    slot.replaceChildren();
    opener.hidden = false;
    opener.focus();
  };
  const remove = h('button', {
    type: 'button',
    text: 'Delete',
    class: 'secondary',
    'aria-describedby': nameId,
    onClick: () => {
      if (!confirm(`Delete “${name}”? The video and its files are removed; this cannot be undone.`)) return;
      return perform(remove, note, async () => {
        const data = await gql(`mutation($id: ID!) { deleteVideo(id: $id) { __typename ${ERROR} ... on JobAlreadyProcessingError { jobId } } }`, {
          id: video.id,
        });
        const error = errorOf(data.deleteVideo);
        if (error)
          note.replaceChildren(errorBox(error)); // beside an open form, not in its place
        else await reload();
      });
    },
  });
  return h(
    'li',
    { 'data-video-id': video.id },
    h('strong', { id: nameId, text: name }),
    h('span', {
      class: 'meta',
      text: ` ${video.title ? `${video.filename} · ` : ''}${video.format} · ${m.width}×${m.height} · ${m.durationSeconds.toFixed(1)} s · ${mb(video.sizeBytes)} · ${when(video.createdAt)}`,
    }),
    ' ',
    opener,
    remove,
    note,
    slot,
  );
}

function jobForm(video, go, close, nameId) {
  const pipeline = h('select', { id: `pipeline-${video.id}` });
  const model = h(
    'select',
    { id: `model-${video.id}` },
    ['FAST', 'ORIGINAL', 'PRO'].map((m) => h('option', { value: m, text: m })),
  );
  const format = h(
    'select',
    { id: `format-${video.id}` },
    ['MP4', 'WEBM'].map((f) => h('option', { value: f, text: f })),
  );
  const remove = h('input', { type: 'checkbox', id: `bg-${video.id}` });
  const color = h('input', { type: 'color', id: `bgcolor-${video.id}`, value: '#00ff00' });
  const transparent = h('input', { type: 'checkbox', id: `transparent-${video.id}` });
  const replaceWith = h('input', { type: 'color', id: `replace-${video.id}`, value: '#000000' });
  const webhook = h('input', { type: 'url', id: `webhook-${video.id}`, placeholder: 'https://example.com/hooks/vidq' });
  const cost = h('p', { class: 'hint', 'aria-live': 'polite' });
  const rule = h('p', { class: 'hint', text: 'A transparent background needs WEBM output: MP4 cannot carry transparency.' });
  const result = h('div');
  let prices = new Map();

  const updateCost = () => {
    replaceWith.disabled = transparent.checked;
    rule.classList.toggle('warn', remove.checked && transparent.checked && format.value === 'MP4');
    const perMinute = prices.get(model.value);
    if (perMinute === undefined) return;
    const minutes = Math.ceil(video.metadata.durationSeconds / 60);
    cost.textContent = `Costs ${credits(perMinute * minutes)} (${perMinute} per started minute × ${minutes}).`;
  };
  // The choices' defaults come with the pipelines: a submit made before they arrive waits for them.
  const ready = gql('{ pricing { models { model creditsPerStartedMinute } } pipelines { name description } }').then(
    (data) => {
      prices = new Map(data.pricing.models.map((p) => [p.model, p.creditsPerStartedMinute]));
      pipeline.append(...data.pipelines.map((p) => h('option', { value: p.name, text: `${p.name} — ${p.description}` })));
      updateCost();
    },
    (error) => {
      if (!signedOut(error)) result.replaceChildren(errorBox(error));
    },
  );
  for (const input of [model, format, remove, transparent]) input.addEventListener('change', updateCost);

  const send = h('button', { type: 'submit', text: 'Submit job', 'aria-describedby': nameId });
  let sending = false;
  const submit = async (event) => {
    event.preventDefault();
    if (sending) return; // one job per submit, however many clicks
    sending = true;
    send.disabled = true;
    try {
      await ready;
      await submitJob();
    } catch (error) {
      if (!signedOut(error)) result.replaceChildren(errorBox(error));
    } finally {
      sending = false;
      send.disabled = false;
    }
  };
  const submitJob = async () => {
    if (remove.checked && transparent.checked && format.value === 'MP4') {
      return result.replaceChildren(
        errorBox({
          code: 'INVALID_INPUT',
          message: 'MP4 cannot carry transparency.',
          nextStep: 'Choose WEBM, or untick Transparent and pick a colour to put behind the subject (Replace with).',
        }),
      );
    }
    const input = {
      videoId: video.id,
      pipeline: pipeline.value || 'default',
      model: model.value,
      outputFormat: format.value,
      webhookUrl: webhook.value.trim() || null,
      background: remove.checked ? { remove: true, color: color.value, replaceWith: transparent.checked ? null : replaceWith.value } : null,
    };
    const data = await gql(
      `mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { id } } ${ERROR} ${FIELDS}
      ... on InsufficientCreditsError { required available } ... on JobAlreadyProcessingError { jobId } } }`,
      { input },
    );
    const error = errorOf(data.submitJob);
    if (error) return result.replaceChildren(errorBox(error));
    accountChanged();
    go(`#/jobs/${data.submitJob.job.id}`);
  };
  const field = (id, label, input) => [h('label', { for: id, text: label }), input];
  return h(
    'form',
    {
      class: 'job-form',
      'aria-label': `Submit a job for ${video.filename}`,
      onSubmit: submit,
      onKeydown: (event) => {
        if (event.key === 'Escape') {
          event.preventDefault();
          close();
        }
      },
    },
    field(pipeline.id, 'Pipeline', pipeline),
    field(model.id, 'Model', model),
    field(format.id, 'Output format', format),
    h(
      'div',
      { class: 'inline' },
      remove,
      h('label', { for: remove.id, text: 'Remove background' }),
      ' ',
      h('span', { class: 'pair' }, field(color.id, 'Colour to remove', color)),
      ' ',
      h('span', { class: 'pair' }, field(replaceWith.id, 'Replace with', replaceWith)),
    ),
    h('div', {}, transparent, h('label', { for: transparent.id, text: 'Transparent (WEBM only)' })),
    rule,
    field(webhook.id, 'Webhook URL (optional)', webhook),
    cost,
    h('div', { class: 'form-actions' }, send, h('button', { type: 'button', class: 'secondary', text: 'Cancel', onClick: close })),
    result,
  );
}

// ───────────────────────────── jobs ─────────────────────────────

const JOB_ROW = 'id status progress stage pipeline createdAt video { id filename title }';
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);
const RETRYABLE = new Set(['FAILED', 'TIMED_OUT', 'CANCELLED']);

export async function jobsView(main) {
  const filter = h(
    'select',
    { id: 'status-filter' },
    h('option', { value: '', text: 'All' }),
    ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].map((s) => h('option', { value: s, text: s })),
  );
  const table = h('tbody');
  const note = h('div');
  const rows = new Map();
  const load = async () => {
    const status = filter.value ? [filter.value] : null;
    const data = await gql(
      `query($status: [JobStatus!]) { jobs(first: 50, status: $status) { __typename ... on JobConnection { nodes { ${JOB_ROW} } } ${ERROR} } }`,
      { status },
    );
    table.replaceChildren();
    rows.clear();
    note.replaceChildren();
    const error = errorOf(data.jobs);
    if (error) return note.replaceChildren(errorBox(error));
    for (const job of data.jobs.nodes) {
      const state = h('td', { class: 'status', text: job.status });
      const bar = progressBar(`Progress of ${job.id}`, job.progress);
      rows.set(job.id, { state, bar });
      table.append(
        h(
          'tr',
          { 'data-job-id': job.id },
          h('td', { class: 'id' }, h('a', { href: `#/jobs/${job.id}`, text: job.id })),
          h('td', { text: job.video ? (job.video.title ?? job.video.filename) : '' }),
          h('td', { text: job.pipeline }),
          state,
          h('td', {}, bar),
          h('td', { text: when(job.createdAt) }),
        ),
      );
    }
    if (!data.jobs.nodes.length) {
      const text = filter.value ? `No ${filter.value} jobs.` : 'No jobs yet: submit one from Videos (its “Submit job” button).';
      table.append(h('tr', { class: 'empty' }, h('td', { colspan: 6, text })));
    }
  };
  const reload = () => load().catch((error) => void (signedOut(error) || note.replaceChildren(errorBox(error))));
  filter.addEventListener('change', reload);
  main.replaceChildren(
    h('h2', { text: 'Jobs' }),
    h('label', { for: 'status-filter', text: 'Status' }),
    filter,
    note,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { 'aria-label': 'Jobs' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Job', 'Video', 'Pipeline', 'Status', 'Progress', 'Submitted'].map((c) => h('th', { text: c })),
          ),
        ),
        table,
      ),
    ),
  );
  await load();
  // Live: every event of the viewer's jobs moves its row; after a lost connection, the list is read again.
  const unsubscribe = subscribe('subscription { jobEvents { jobId status progress } }', {}, ({ jobEvents: e }) => {
    if (TERMINAL.has(e.status)) accountChanged();
    const row = rows.get(e.jobId);
    if (!row) return void reload();
    row.state.textContent = e.status;
    setProgress(row.bar, e.progress);
  });
  const forget = onReconnect(reload);
  return () => {
    forget();
    unsubscribe();
  };
}

const DELIVERY = 'id eventType url status attempts lastStatusCode errorCode attemptsLog { number statusCode latencyMs error at }';
const JOB = `id status progress stage attempt maxAttempts pipeline costCredits nextStep createdAt finishedAt
  video { id filename title } options { model outputFormat }
  stages { name status attempts progress startedAt finishedAt error { code message } }
  error { code message detail stage retryable }
  webhookDeliveries { ${DELIVERY} }`;
const JOB_EVENT = `subscription($id: ID!, $afterSequence: Int) { jobUpdated(jobId: $id, afterSequence: $afterSequence) {
  __typename ... on JobEvent { sequence type status progress stage at error { code message } } ${ERROR} } }`;
/** After a job ends, a Redeliver or a test: its deliveries are read again for this long (and while one is PENDING). */
const DELIVERY_WATCH_MS = 30_000;

export async function jobView(main, go, jobId) {
  const headingId = uid('job-heading');
  const status = h('p', { class: 'status-line' });
  // A live region: a screen reader hears QUEUED → PROCESSING → COMPLETED (or FAILED) as it happens.
  const state = h('strong', { class: 'status', 'data-testid': 'job-status', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const bar = progressBar('Job progress', 0);
  const stages = h('ol', { class: 'stages', 'aria-label': 'Stages' });
  const events = h('ol', { class: 'events', 'aria-label': 'Events' });
  const errorSlot = h('div');
  const actionNote = h('div'); // what Cancel job / Retry job answered, beside them
  const outputs = h('section', { 'aria-label': 'Outputs' });
  const deliveries = h('section', { 'aria-label': 'Webhook deliveries' });
  const actions = h('div', { class: 'actions' });
  const report = h('section', { 'aria-label': 'Incident report' });
  const seen = new Set();
  const notes = new Map(); // a delivery's "Sent again." (or error), kept across refreshes
  const follow = { id: jobId, afterSequence: 0 }; // sent again, as it is then, on a reconnect
  let unsubscribe = null; // the live feed of this job's events, while it is open
  let disposed = false;
  let shown = null; // the attempt and status on screen
  let refreshes = 0;
  let watchUntil = 0;
  let deliveryTimer = null;

  const refresh = async () => {
    const mine = ++refreshes;
    const data = await gql(`query($id: ID!) { job(id: $id) { __typename ... on Job { ${JOB} } ${ERROR} } }`, { id: jobId });
    if (disposed || mine !== refreshes) return; // a later refresh has (or will have) newer data
    const error = errorOf(data.job);
    if (error) return main.replaceChildren(h('h2', { text: `Job ${jobId}`, class: 'job-id' }), errorBox(error));
    const job = data.job;
    // Another attempt (Retry job, here or elsewhere): the last one's incident report no longer applies.
    if (shown && (shown.attempt !== job.attempt || !RETRYABLE.has(job.status))) report.replaceChildren();
    if (shown && !TERMINAL.has(shown.status) && TERMINAL.has(job.status)) {
      accountChanged(); // a refund, or the final charge
      watchDeliveries();
    }
    // Just ended (here or before the page opened): its deliveries are being made.
    if (TERMINAL.has(job.status) && job.finishedAt) watchUntil = Math.max(watchUntil, new Date(job.finishedAt).getTime() + DELIVERY_WATCH_MS);
    shown = { attempt: job.attempt, status: job.status };
    state.textContent = job.status;
    status.replaceChildren(
      state,
      ` · ${job.pipeline} · ${job.options.model} → ${job.options.outputFormat} · attempt ${job.attempt} of ${job.maxAttempts} · ${credits(job.costCredits)}`,
    );
    setProgress(bar, job.progress);
    stages.replaceChildren(
      ...job.stages.map((s) =>
        h(
          'li',
          { 'data-stage': s.name },
          h('strong', { text: s.name }),
          ` ${s.status}`,
          s.attempts > 1 ? ` (${s.attempts} attempts)` : '',
          s.startedAt && s.finishedAt ? ` · ${((new Date(s.finishedAt) - new Date(s.startedAt)) / 1000).toFixed(1)} s` : '',
          s.error ? ` · ${s.error.code}` : '',
        ),
      ),
    );
    errorSlot.replaceChildren(job.error ? errorBox({ ...job.error, nextStep: job.nextStep }) : '');
    const cancel = h('button', { type: 'button', text: 'Cancel job', onClick: () => act(cancel, 'cancelJob') });
    const retry = h('button', { type: 'button', text: 'Retry job', onClick: () => act(retry, 'retryJob') });
    const showReport = h('button', {
      type: 'button',
      class: 'secondary',
      text: 'Show incident report',
      onClick: () => perform(showReport, actionNote, loadReport),
    });
    actions.replaceChildren(!TERMINAL.has(job.status) ? cancel : '', RETRYABLE.has(job.status) ? retry : '', RETRYABLE.has(job.status) ? showReport : '');
    // The outputs, above the deliveries, are in place before the deliveries are drawn: drawn after, they
    // moved the Redeliver buttons down just as they became clickable.
    const outputsFailed =
      job.status === 'COMPLETED' && !outputs.childElementCount
        ? await showOutputs().then(
            () => null,
            (error) => error,
          )
        : null;
    if (disposed || mine !== refreshes) return;
    renderDeliveries(job.webhookDeliveries);
    if (outputsFailed) throw outputsFailed;
    if (!TERMINAL.has(job.status) && !unsubscribe) live(); // active again (retried): follow it again
  };

  const act = (button, mutation) =>
    perform(button, actionNote, async () => {
      const data = await gql(
        `mutation($id: ID!) { ${mutation}(id: $id) { __typename ${ERROR} ... on JobAlreadyProcessingError { jobId } ... on InsufficientCreditsError { required available } } }`,
        { id: jobId },
      );
      const error = errorOf(data[mutation]);
      if (error) actionNote.replaceChildren(errorBox(error));
      else accountChanged();
      await refresh();
    });

  let drawn = null; // the deliveries on screen, as JSON: an unchanged list is not redrawn (focus stays)
  const renderDeliveries = (list) => {
    const json = JSON.stringify(list);
    if (json === drawn) return scheduleDeliveries(list);
    drawn = json;
    deliveries.replaceChildren(
      h('h3', { text: 'Webhook deliveries' }),
      deliveryList(list, notes, () => {
        watchDeliveries();
        setTimeout(() => void refreshDeliveries(), 1000);
      }),
    );
    scheduleDeliveries(list);
  };
  // Deliveries are made after the job ends and retried later: read them again while they may change.
  const watchDeliveries = () => {
    watchUntil = Date.now() + DELIVERY_WATCH_MS;
    scheduleDeliveries([]);
  };
  const scheduleDeliveries = (list) => {
    clearTimeout(deliveryTimer);
    if (disposed) return;
    const pending = list.some((d) => d.status === 'PENDING');
    if (pending || Date.now() < watchUntil) deliveryTimer = setTimeout(() => void refreshDeliveries(), pending && Date.now() >= watchUntil ? 5000 : 2000);
  };
  const refreshDeliveries = async () => {
    const data = await gql(`query($id: ID!) { job(id: $id) { __typename ... on Job { webhookDeliveries { ${DELIVERY} } } } }`, { id: jobId }).catch(() => null);
    if (disposed) return;
    if (data?.job?.webhookDeliveries) renderDeliveries(data.job.webhookDeliveries);
    else scheduleDeliveries([]);
  };

  const showOutputs = async () => {
    const data = await gql(
      `query($id: ID!) { jobOutput(jobId: $id) { __typename ... on JobOutput { files { kind stage url contentType sizeBytes } hls { masterPlaylistUrl } } ${ERROR} } }`,
      { id: jobId },
    );
    const output = data.jobOutput;
    if (errorOf(output)) return;
    const video = output.files.find((f) => f.kind === 'video');
    const thumbs = output.files.filter((f) => f.kind === 'thumbnail' || f.kind === 'poster');
    outputs.replaceChildren(
      h('h3', { text: 'Outputs' }),
      video
        ? h('video', { controls: true, src: video.url, preload: 'auto', 'aria-label': 'Processed video' })
        : output.hls
          ? h('video', { controls: true, src: output.hls.masterPlaylistUrl, 'aria-label': 'Processed video' })
          : '',
      h(
        'div',
        { class: 'thumbs' },
        thumbs.map((t) => h('img', { src: t.url, alt: `${t.kind} (${t.stage})`, loading: 'lazy' })),
      ),
      h(
        'ul',
        { class: 'downloads' },
        output.files
          .filter((f) => f.kind !== 'hls' || f.contentType.includes('mpegurl'))
          .map((f) =>
            h(
              'li',
              {},
              // "video · transcode · 1.2 MB", described by the job's heading: which job's file it is.
              h('a', { href: f.url, download: '', text: `${f.kind} · ${f.stage} · ${mb(f.sizeBytes)}`, 'aria-describedby': headingId }),
            ),
          ),
      ),
    );
  };
  const loadReport = async () => {
    const data = await gql(`query($id: ID!) { job(id: $id) { ... on Job { incidentReport } } }`, { id: jobId });
    const text = JSON.stringify(data.job.incidentReport, null, 2);
    const copied = h('span', { 'aria-live': 'polite' });
    report.replaceChildren(
      h('h3', { text: 'Incident report' }),
      h('button', {
        type: 'button',
        text: 'Copy',
        onClick: async () =>
          (await navigator.clipboard?.writeText(text).then(
            () => true,
            () => false,
          ))
            ? (copied.textContent = ' Copied.')
            : (copied.textContent = ' Select the text and copy it.'),
      }),
      copied,
      h('pre', { text }),
    );
  };

  // The log: stored events, then live ones. The feed ends after a terminal event; a retry starts it
  // again after the last sequence seen, and a reconnect resumes from there too (shown once each).
  const live = () => {
    const feed = subscribe(
      JOB_EVENT,
      follow,
      ({ jobUpdated: e }) => {
        if (errorOf(e) || seen.has(e.sequence)) return;
        seen.add(e.sequence);
        follow.afterSequence = Math.max(follow.afterSequence, e.sequence);
        events.append(
          h(
            'li',
            { 'data-sequence': e.sequence },
            `#${e.sequence} ${e.type}${e.stage ? ` ${e.stage}` : ''} ${Math.round(e.progress * 100)} % · ${new Date(e.at).toLocaleTimeString()}`,
            e.error ? ` · ${e.error.code}: ${e.error.message}` : '',
          ),
        );
        state.textContent = e.status;
        setProgress(bar, e.progress);
        if (e.type !== 'PROGRESS') void refresh().catch(() => {}); // a failure is the connection's status to say
      },
      () => ended(feed),
      () => ended(feed),
    );
    unsubscribe = feed;
  };
  const ended = (feed) => {
    if (unsubscribe === feed) unsubscribe = null;
  };

  main.replaceChildren(
    h('h2', { id: headingId, class: 'job-id', text: `Job ${jobId}` }),
    status,
    bar,
    actions,
    actionNote,
    errorSlot,
    h('h3', { text: 'Stages' }),
    stages,
    outputs,
    report,
    deliveries,
    h('h3', { text: 'Events' }),
    events,
  );
  await refresh();
  if (!unsubscribe) live(); // a finished job: its stored events, then the feed ends
  // Back after a lost connection: read the job again (the feed itself resumes after the last sequence).
  const forget = onReconnect(() => void refresh().catch(() => {}));
  return () => {
    disposed = true;
    forget();
    clearTimeout(deliveryTimer);
    unsubscribe?.();
  };
}

/** A job's or an endpoint's deliveries; `notes` keeps each one's last Redeliver answer across refreshes. */
function deliveryList(list, notes, redelivered) {
  if (!list.length) return h('p', { class: 'hint', text: 'No webhook deliveries.' });
  return h(
    'ul',
    { class: 'deliveries' },
    list.map((d) => {
      const result = notes.get(d.id) ?? h('span', { 'aria-live': 'polite' });
      notes.set(d.id, result);
      const summaryId = uid('delivery');
      const redeliver = h('button', {
        type: 'button',
        text: 'Redeliver',
        'aria-describedby': summaryId,
        onClick: () =>
          perform(redeliver, result, async () => {
            const data = await gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { __typename ${ERROR} ${FIELDS} } }`, { id: d.id });
            const error = errorOf(data.redeliverWebhook);
            result.replaceChildren(error ? errorBox(error) : h('span', { class: 'ok', text: ' Sent again.' }));
            if (!error) redelivered();
          }),
      });
      return h(
        'li',
        { 'data-delivery-id': d.id },
        h(
          'span',
          { id: summaryId },
          h('strong', { text: d.eventType }),
          ` → ${d.url} · ${d.status} · ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}${d.lastStatusCode ? ` · HTTP ${d.lastStatusCode}` : ''}${d.errorCode ? ` · ${d.errorCode}` : ''}`,
        ),
        h(
          'ol',
          {},
          d.attemptsLog.map((a) => h('li', { text: `#${a.number} ${a.statusCode ?? a.error ?? '—'} in ${a.latencyMs} ms · ${when(a.at)}` })),
        ),
        d.status !== 'PENDING' ? redeliver : '',
        result,
      );
    }),
  );
}

// ───────────────────────────── webhooks and alerts ─────────────────────────────

export async function webhooksView(main) {
  const list = h('ul', { class: 'endpoints', 'aria-label': 'Webhook endpoints' });
  const url = h('input', { type: 'url', id: 'endpoint-url', required: true });
  const note = h('div', { 'aria-live': 'polite' });
  const notes = new Map(); // each delivery's Redeliver answer, and each endpoint's, kept across reloads
  const endpointNote = (id) => notes.get(`endpoint:${id}`) ?? notes.set(`endpoint:${id}`, h('div', { 'aria-live': 'polite' })).get(`endpoint:${id}`);
  let disposed = false;
  let timer = null;
  let drawn = null;
  const load = async () => {
    const data = await gql(
      `{ webhookEndpoints { __typename ... on WebhookEndpointConnection { nodes { id url events enabled circuit { state } deliveries(first: 10) { ... on WebhookDeliveryConnection { nodes { ${DELIVERY} } } } } } ${ERROR} } }`,
    );
    if (disposed) return;
    const error = errorOf(data.webhookEndpoints);
    if (error) return note.replaceChildren(errorBox(error));
    const endpoints = data.webhookEndpoints.nodes ?? [];
    clearTimeout(timer);
    // A delivery still PENDING (a retry due later): read the list again until it settles.
    if (endpoints.some((e) => e.deliveries?.nodes?.some((d) => d.status === 'PENDING'))) timer = setTimeout(() => void reload(), 5000);
    const json = JSON.stringify(endpoints);
    if (json === drawn) return; // unchanged: not redrawn, so focus stays where it is
    drawn = json;
    list.replaceChildren(
      ...endpoints.map((e) => {
        const slot = endpointNote(e.id);
        const urlId = uid('endpoint');
        const test = h('button', {
          type: 'button',
          text: 'Send test',
          'aria-describedby': urlId,
          onClick: () =>
            perform(test, slot, async () => {
              const r = await gql(
                `mutation($id: ID!) { sendTestWebhook(endpointId: $id) { __typename ... on SendTestWebhookSuccess { delivery { id status lastStatusCode errorCode lastError } } ${ERROR} } }`,
                { id: e.id },
              );
              const failed = errorOf(r.sendTestWebhook);
              slot.replaceChildren(failed ? errorBox(failed) : testOutcome(r.sendTestWebhook.delivery));
              await reload();
            }),
        });
        const rotate = h('button', {
          type: 'button',
          text: 'Rotate secret',
          class: 'secondary',
          'aria-describedby': urlId,
          onClick: () => {
            if (!confirm(`Rotate the secret of ${e.url}? Deliveries are signed with the new one at once: the receiver must be given it.`)) return;
            return perform(rotate, slot, async () => {
              const r = await gql(
                `mutation($id: ID!) { rotateWebhookSecret(endpointId: $id) { __typename ... on RotateWebhookSecretSuccess { secret } ${ERROR} } }`,
                { id: e.id },
              );
              slot.replaceChildren(
                errorOf(r.rotateWebhookSecret)
                  ? errorBox(r.rotateWebhookSecret)
                  : h('p', {}, 'New secret (shown once): ', h('code', { text: r.rotateWebhookSecret.secret })),
              );
            });
          },
        });
        return h(
          'li',
          {},
          h('strong', { id: urlId, text: e.url }),
          ` · ${e.events.join(', ')} · ${e.enabled ? 'enabled' : 'disabled'} · circuit ${e.circuit.state} `,
          test,
          rotate,
          slot,
          deliveryList(e.deliveries?.nodes ?? [], notes, () => setTimeout(() => void reload(), 1000)),
        );
      }),
    );
    if (!endpoints.length) list.append(h('li', { class: 'empty', text: 'No endpoints: add one below, or give a job its own webhook URL.' }));
  };
  const reload = () => load().catch((error) => void (signedOut(error) || note.replaceChildren(errorBox(error))));
  const addButton = h('button', { type: 'submit', text: 'Add endpoint' });
  const add = (event) => {
    event.preventDefault();
    return perform(addButton, note, async () => {
      const r = await gql(
        `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { secret } ${ERROR} ${FIELDS} } }`,
        {
          input: { url: url.value.trim(), events: ['job.completed', 'job.failed', 'job.timed_out', 'job.cancelled'] },
        },
      );
      const error = errorOf(r.createWebhookEndpoint);
      note.replaceChildren(
        error ? errorBox(error) : h('p', {}, 'Endpoint added. Its secret (shown once): ', h('code', { text: r.createWebhookEndpoint.secret })),
      );
      if (!error) url.value = '';
      await reload();
    });
  };
  main.replaceChildren(
    h('h2', { text: 'Webhooks' }),
    list,
    h('form', { onSubmit: add }, h('label', { for: 'endpoint-url', text: 'Endpoint URL' }), url, addButton),
    note,
  );
  await load();
  const forget = onReconnect(reload);
  return () => {
    disposed = true;
    forget();
    clearTimeout(timer);
  };
}

/** What became of a test event: sendTestWebhook answers once its one attempt is made, or while it is queued. */
function testOutcome(d) {
  if (d.status === 'DELIVERED') return h('p', { class: 'ok', text: `Test event delivered${d.lastStatusCode ? ` (HTTP ${d.lastStatusCode})` : ''}.` });
  if (d.status === 'PENDING') return h('p', { text: 'Test event queued: its outcome appears in the deliveries below.' });
  return errorBox({
    code: d.errorCode ?? 'WEBHOOK_DELIVERY_FAILED',
    message: `Test event not delivered${d.lastStatusCode ? `: the endpoint answered HTTP ${d.lastStatusCode}` : ''}.`,
    detail: d.lastError,
    nextStep: 'Check that the endpoint is reachable from vidq and answers 2xx, then send another test.',
  });
}

export async function alertsView(main) {
  const list = h('ol', { class: 'alerts', 'aria-label': 'Alerts' });
  const note = h('div');
  const item = (a) =>
    h(
      'li',
      { 'data-alert-id': a.id },
      h('strong', { text: `${a.kind} · ${a.code}` }),
      ` ${a.message} `,
      h('div', { class: 'next', text: `Next step: ${a.nextStep}` }),
      h('small', { text: when(a.createdAt) }),
    );
  const load = async () => {
    const data = await gql(`{ alerts(first: 50) { __typename ... on AlertConnection { nodes { id kind code message nextStep createdAt } } ${ERROR} } }`);
    const error = errorOf(data.alerts);
    if (error) return note.replaceChildren(errorBox(error));
    note.replaceChildren();
    list.replaceChildren(...data.alerts.nodes.map(item));
  };
  main.replaceChildren(h('h2', { text: 'Alerts (live)' }), note, list);
  await load();
  const unsubscribe = subscribe(
    `subscription { alerts { __typename ... on Alert { id kind code message nextStep createdAt } ${ERROR} } }`,
    {},
    ({ alerts: a }) => {
      if (!errorOf(a)) list.prepend(item(a));
    },
  );
  // Alerts raised while the connection was down are not replayed: read the list again.
  const forget = onReconnect(() => void load().catch((error) => void (signedOut(error) || note.replaceChildren(errorBox(error)))));
  return () => {
    forget();
    unsubscribe();
  };
}
