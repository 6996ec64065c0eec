// The dashboard's views. Plain DOM, no framework: h() builds elements; each view renders into <main>
// and returns a cleanup (its live subscriptions) for when the page moves on.
import { errorOf, gql, subscribe, upload } from './api.js';

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
  );
}

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
  const more = h('button', { type: 'button', text: 'Load more', hidden: true, onClick: () => load() });

  async function load(reset = false) {
    if (reset) {
      after = null;
      list.replaceChildren();
    }
    const data = await gql(
      `query($after: String) { videos(first: 20, after: $after) { __typename ... on VideoConnection { nodes { ${VIDEO} } pageInfo { hasNextPage endCursor } } ${ERROR} } }`,
      { after },
    );
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
      status.replaceChildren(errorBox(error));
    }
  }

  const form = h(
    'form',
    { class: 'upload', onSubmit: send },
    h('h2', { text: 'Upload a video' }),
    h('label', { for: 'video-file', text: 'Video file' }),
    file,
    h('label', { for: 'video-title', text: 'Title (optional)' }),
    title,
    h('p', { class: 'hint', text: 'Drop a file on the field or choose one. Uploads resume after a dropped connection.' }),
    h('button', { type: 'submit', text: 'Upload' }),
  );
  main.replaceChildren(form, status, h('h2', { text: 'Videos' }), list, more);
  await load(true);
}

function videoItem(video, go, reload) {
  const m = video.metadata;
  const slot = h('div');
  const note = h('div');
  // One "Submit job" button per video at any time (the contract's name): this one opens the form and is
  // hidden while the form is open, whose own submit button takes the name; Cancel brings this one back.
  const opener = h('button', { type: 'button', text: 'Submit job', onClick: () => open() });
  const open = () => {
    const form = jobForm(video, go, close);
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
  const item = h(
    'li',
    { 'data-video-id': video.id },
    h('strong', { text: video.title ?? video.filename }),
    h('span', {
      class: 'meta',
      text: ` ${video.format} · ${m.width}×${m.height} · ${m.durationSeconds.toFixed(1)} s · ${mb(video.sizeBytes)} · ${when(video.createdAt)}`,
    }),
    opener,
    h('button', {
      type: 'button',
      text: 'Delete',
      onClick: async () => {
        const data = await gql(`mutation($id: ID!) { deleteVideo(id: $id) { __typename ${ERROR} } }`, { id: video.id });
        const error = errorOf(data.deleteVideo);
        if (error)
          note.replaceChildren(errorBox(error)); // beside an open form, not in its place
        else reload();
      },
    }),
    note,
    slot,
  );
  return item;
}

function jobForm(video, go, close) {
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
  const webhook = h('input', { type: 'url', id: `webhook-${video.id}`, placeholder: 'https://example.com/hooks/vidq' });
  const cost = h('p', { class: 'hint', 'aria-live': 'polite' });
  const rule = h('p', { class: 'hint', text: 'A transparent background needs WEBM output: MP4 cannot carry transparency.' });
  const result = h('div');
  let prices = new Map();

  const updateCost = () => {
    const perMinute = prices.get(model.value);
    if (perMinute === undefined) return;
    const minutes = Math.ceil(video.metadata.durationSeconds / 60);
    cost.textContent = `Costs ${perMinute * minutes} credit${perMinute * minutes === 1 ? '' : 's'} (${perMinute} per started minute × ${minutes}).`;
    rule.classList.toggle('warn', remove.checked && transparent.checked && format.value === 'MP4');
  };
  // The choices' defaults come with the pipelines: a submit made before they arrive waits for them.
  const ready = gql('{ pricing { models { model creditsPerStartedMinute } } pipelines { name description } }').then(
    (data) => {
      prices = new Map(data.pricing.models.map((p) => [p.model, p.creditsPerStartedMinute]));
      pipeline.append(...data.pipelines.map((p) => h('option', { value: p.name, text: `${p.name} — ${p.description}` })));
      updateCost();
    },
    (error) => result.replaceChildren(errorBox(error)),
  );
  for (const input of [model, format, remove, transparent]) input.addEventListener('change', updateCost);

  const send = h('button', { type: 'submit', text: 'Submit job' });
  let sending = false;
  const submit = async (event) => {
    event.preventDefault();
    if (sending) return; // one job per submit, however many clicks
    sending = true;
    send.disabled = true;
    try {
      await ready;
      await submitJob();
    } finally {
      sending = false;
      send.disabled = false;
    }
  };
  const submitJob = async () => {
    if (remove.checked && transparent.checked && format.value === 'MP4') {
      return result.replaceChildren(
        errorBox({ code: 'INVALID_INPUT', message: 'MP4 cannot carry transparency.', nextStep: 'Choose WEBM, or a colour to put behind the subject.' }),
      );
    }
    const input = {
      videoId: video.id,
      pipeline: pipeline.value || 'default',
      model: model.value,
      outputFormat: format.value,
      webhookUrl: webhook.value.trim() || null,
      background: remove.checked ? { remove: true, color: color.value, replaceWith: transparent.checked ? null : '#000000' } : null,
    };
    const data = await gql(
      `mutation($input: SubmitJobInput!) { submitJob(input: $input) { __typename ... on SubmitJobSuccess { job { id } } ${ERROR} ${FIELDS}
      ... on InsufficientCreditsError { required available } } }`,
      { input },
    ).catch((error) => ({ submitJob: error }));
    const error = errorOf(data.submitJob) ?? (data.submitJob instanceof Error ? data.submitJob : null);
    if (error) return result.replaceChildren(errorBox(error));
    go(`#/jobs/${data.submitJob.job.id}`);
  };
  const field = (id, label, input) => [h('label', { for: id, text: label }), input];
  return h(
    'form',
    { class: 'job-form', 'aria-label': `Submit a job for ${video.filename}`, onSubmit: submit },
    field(pipeline.id, 'Pipeline', pipeline),
    field(model.id, 'Model', model),
    field(format.id, 'Output format', format),
    h('div', {}, remove, h('label', { for: remove.id, text: 'Remove background' }), ' ', field(color.id, 'Background colour', color)),
    h('div', {}, transparent, h('label', { for: transparent.id, text: 'Transparent (WEBM only)' })),
    rule,
    field(webhook.id, 'Webhook URL (optional)', webhook),
    cost,
    h('div', { class: 'form-actions' }, send, h('button', { type: 'button', class: 'secondary', text: 'Cancel', onClick: close })),
    result,
  );
}

// ───────────────────────────── jobs ─────────────────────────────

const JOB_ROW = 'id status progress stage pipeline createdAt video { id filename }';
const TERMINAL = new Set(['COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED']);

export async function jobsView(main, go) {
  const filter = h(
    'select',
    { id: 'status-filter' },
    h('option', { value: '', text: 'All' }),
    ['QUEUED', 'PROCESSING', 'COMPLETED', 'FAILED', 'TIMED_OUT', 'CANCELLED'].map((s) => h('option', { value: s, text: s })),
  );
  const table = h('tbody');
  const rows = new Map();
  const load = async () => {
    const status = filter.value ? [filter.value] : null;
    const data = await gql(
      `query($status: [JobStatus!]) { jobs(first: 50, status: $status) { __typename ... on JobConnection { nodes { ${JOB_ROW} } } ${ERROR} } }`,
      { status },
    );
    table.replaceChildren();
    rows.clear();
    const error = errorOf(data.jobs);
    if (error) return main.append(errorBox(error));
    for (const job of data.jobs.nodes) {
      const state = h('td', { class: 'status', text: job.status });
      const bar = progressBar(`Progress of ${job.id}`, job.progress);
      rows.set(job.id, { state, bar });
      table.append(
        h(
          'tr',
          { 'data-job-id': job.id },
          h('td', {}, h('a', { href: `#/jobs/${job.id}`, text: job.id })),
          h('td', { text: job.video?.filename ?? '' }),
          h('td', { text: job.pipeline }),
          state,
          h('td', {}, bar),
          h('td', { text: when(job.createdAt) }),
        ),
      );
    }
  };
  filter.addEventListener('change', load);
  main.replaceChildren(
    h('h2', { text: 'Jobs' }),
    h('label', { for: 'status-filter', text: 'Status' }),
    filter,
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
  );
  await load();
  // Live: every event of the viewer's jobs moves its row.
  return subscribe('subscription { jobEvents { jobId status progress } }', {}, ({ jobEvents: e }) => {
    const row = rows.get(e.jobId);
    if (!row) return void load();
    row.state.textContent = e.status;
    setProgress(row.bar, e.progress);
  });
}

const JOB = `id status progress stage attempt maxAttempts pipeline costCredits nextStep createdAt finishedAt
  video { id filename } options { model outputFormat }
  stages { name status attempts progress startedAt finishedAt error { code message } }
  error { code message detail stage retryable }
  webhookDeliveries { id eventType url status attempts lastStatusCode errorCode attemptsLog { number statusCode latencyMs error at } }`;

export async function jobView(main, go, jobId) {
  const status = h('p', { class: 'status-line' });
  const state = h('strong', { class: 'status', 'data-testid': 'job-status' });
  const bar = progressBar('Job progress', 0);
  const stages = h('ol', { class: 'stages', 'aria-label': 'Stages' });
  const events = h('ol', { class: 'events', 'aria-label': 'Events' });
  const errorSlot = h('div');
  const outputs = h('section', { 'aria-label': 'Outputs' });
  const deliveries = h('section', { 'aria-label': 'Webhook deliveries' });
  const actions = h('div', { class: 'actions' });
  const report = h('section', { 'aria-label': 'Incident report' });
  const seen = new Set();

  const refresh = async () => {
    const data = await gql(`query($id: ID!) { job(id: $id) { __typename ... on Job { ${JOB} } ${ERROR} } }`, { id: jobId });
    const error = errorOf(data.job);
    if (error) return main.replaceChildren(errorBox(error));
    const job = data.job;
    state.textContent = job.status;
    status.replaceChildren(
      state,
      ` · ${job.pipeline} · ${job.options.model} → ${job.options.outputFormat} · attempt ${job.attempt} of ${job.maxAttempts} · ${job.costCredits} credits`,
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
    actions.replaceChildren(
      !TERMINAL.has(job.status) ? h('button', { type: 'button', text: 'Cancel job', onClick: () => act('cancelJob') }) : '',
      ['FAILED', 'TIMED_OUT', 'CANCELLED'].includes(job.status) ? h('button', { type: 'button', text: 'Retry job', onClick: () => act('retryJob') }) : '',
      TERMINAL.has(job.status) && job.status !== 'COMPLETED' ? h('button', { type: 'button', text: 'Show incident report', onClick: showReport }) : '',
    );
    deliveries.replaceChildren(h('h3', { text: 'Webhook deliveries' }), deliveryList(job.webhookDeliveries, refresh));
    if (job.status === 'COMPLETED' && !outputs.childElementCount) await showOutputs();
  };
  const act = async (mutation) => {
    const data = await gql(`mutation($id: ID!) { ${mutation}(id: $id) { __typename ${ERROR} } }`, { id: jobId });
    const error = errorOf(data[mutation]);
    errorSlot.replaceChildren(error ? errorBox(error) : '');
    await refresh();
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
          .map((f) => h('li', {}, h('a', { href: f.url, download: '', text: `${f.kind} · ${f.stage} · ${mb(f.sizeBytes)}` }))),
      ),
    );
  };
  const showReport = async () => {
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

  main.replaceChildren(
    h('h2', { text: `Job ${jobId}` }),
    status,
    bar,
    actions,
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
  // The log: stored events, then live ones; a reconnect replays from the start, shown once each.
  return subscribe(
    `subscription($id: ID!) { jobUpdated(jobId: $id) { __typename ... on JobEvent { sequence type status progress stage at error { code message } } ${ERROR} } }`,
    { id: jobId },
    ({ jobUpdated: e }) => {
      if (errorOf(e) || seen.has(e.sequence)) return;
      seen.add(e.sequence);
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
      if (e.type !== 'PROGRESS') void refresh();
    },
  );
}

function deliveryList(list, refresh) {
  if (!list.length) return h('p', { class: 'hint', text: 'No webhook deliveries.' });
  return h(
    'ul',
    { class: 'deliveries' },
    list.map((d) => {
      const result = h('span');
      return h(
        'li',
        { 'data-delivery-id': d.id },
        h('strong', { text: d.eventType }),
        ` → ${d.url} · ${d.status} · ${d.attempts} attempt(s)${d.lastStatusCode ? ` · HTTP ${d.lastStatusCode}` : ''}${d.errorCode ? ` · ${d.errorCode}` : ''}`,
        h(
          'ol',
          {},
          d.attemptsLog.map((a) => h('li', { text: `#${a.number} ${a.statusCode ?? a.error ?? '—'} in ${a.latencyMs} ms · ${when(a.at)}` })),
        ),
        d.status !== 'PENDING'
          ? h('button', {
              type: 'button',
              text: 'Redeliver',
              onClick: async () => {
                const data = await gql(`mutation($id: ID!) { redeliverWebhook(deliveryId: $id) { __typename ${ERROR} ${FIELDS} } }`, { id: d.id });
                const error = errorOf(data.redeliverWebhook);
                result.replaceChildren(error ? errorBox(error) : 'Sent again.');
                setTimeout(refresh, 1000);
              },
            })
          : '',
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
  const load = async () => {
    const data = await gql(
      `{ webhookEndpoints { __typename ... on WebhookEndpointConnection { nodes { id url events enabled circuit { state } deliveries(first: 10) { ... on WebhookDeliveryConnection { nodes { id eventType url status attempts lastStatusCode errorCode attemptsLog { number statusCode latencyMs error at } } } } } } ${ERROR} } }`,
    ).catch((error) => ({ error }));
    if (data.error) return note.replaceChildren(errorBox(data.error));
    const endpoints = data.webhookEndpoints.nodes ?? [];
    list.replaceChildren(
      ...endpoints.map((e) =>
        h(
          'li',
          {},
          h('strong', { text: e.url }),
          ` · ${e.events.join(', ')} · ${e.enabled ? 'enabled' : 'disabled'} · circuit ${e.circuit.state}`,
          h('button', {
            type: 'button',
            text: 'Send test',
            onClick: () => run(`mutation($id: ID!) { sendTestWebhook(endpointId: $id) { __typename ${ERROR} } }`, { id: e.id }, 'Test event sent.'),
          }),
          h('button', {
            type: 'button',
            text: 'Rotate secret',
            onClick: async () => {
              const r = await gql(
                `mutation($id: ID!) { rotateWebhookSecret(endpointId: $id) { __typename ... on RotateWebhookSecretSuccess { secret } ${ERROR} } }`,
                { id: e.id },
              );
              note.replaceChildren(
                errorOf(r.rotateWebhookSecret)
                  ? errorBox(r.rotateWebhookSecret)
                  : h('p', {}, 'New secret (shown once): ', h('code', { text: r.rotateWebhookSecret.secret })),
              );
            },
          }),
          deliveryList(e.deliveries?.nodes ?? [], load),
        ),
      ),
    );
    if (!endpoints.length) list.append(h('li', { class: 'empty', text: 'No endpoints: add one below, or give a job its own webhook URL.' }));
  };
  const run = async (query, variables, done) => {
    const data = await gql(query, variables);
    const member = Object.values(data)[0];
    note.replaceChildren(errorOf(member) ? errorBox(member) : done);
    await load();
  };
  const add = async (event) => {
    event.preventDefault();
    const r = await gql(
      `mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) { __typename ... on CreateWebhookEndpointSuccess { secret } ${ERROR} ${FIELDS} } }`,
      {
        input: { url: url.value.trim(), events: ['job.completed', 'job.failed', 'job.timed_out', 'job.cancelled'] },
      },
    );
    note.replaceChildren(
      errorOf(r.createWebhookEndpoint)
        ? errorBox(r.createWebhookEndpoint)
        : h('p', {}, 'Endpoint added. Its secret (shown once): ', h('code', { text: r.createWebhookEndpoint.secret })),
    );
    await load();
  };
  main.replaceChildren(
    h('h2', { text: 'Webhooks' }),
    list,
    h('form', { onSubmit: add }, h('label', { for: 'endpoint-url', text: 'Endpoint URL' }), url, h('button', { type: 'submit', text: 'Add endpoint' })),
    note,
  );
  await load();
}

export async function alertsView(main) {
  const list = h('ol', { class: 'alerts', 'aria-label': 'Alerts' });
  const item = (a) =>
    h(
      'li',
      { 'data-alert-id': a.id },
      h('strong', { text: `${a.kind} · ${a.code}` }),
      ` ${a.message} `,
      h('div', { class: 'next', text: `Next step: ${a.nextStep}` }),
      h('small', { text: when(a.createdAt) }),
    );
  const data = await gql(`{ alerts(first: 50) { __typename ... on AlertConnection { nodes { id kind code message nextStep createdAt } } ${ERROR} } }`);
  main.replaceChildren(h('h2', { text: 'Alerts (live)' }), list);
  const error = errorOf(data.alerts);
  if (error) return main.append(errorBox(error));
  list.append(...data.alerts.nodes.map(item));
  return subscribe(`subscription { alerts { __typename ... on Alert { id kind code message nextStep createdAt } ${ERROR} } }`, {}, ({ alerts: a }) => {
    if (!errorOf(a)) list.prepend(item(a));
  });
}
