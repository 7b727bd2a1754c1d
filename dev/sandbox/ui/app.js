// The sandbox page: renders what the Slack emulator holds the way Slack would, for the chosen person.
'use strict';

const $ = (id) => document.getElementById(id);
const ui = {
  user: localStorage.getItem('idc-sandbox-user') || 'UREQ',
  channel: 'C0IDC',
  thread: null,
  state: null,
  seen: '',
  modalKey: '',
};

const html = (s) =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Slack escapes &, < and > in message text; undo that before escaping for HTML. */
const unslack = (s) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

function personName(id) {
  const p = ui.state && ui.state.people[id];
  return p ? p.real_name : id === 'UBOT' ? 'idc-bot' : id;
}

/** Slack mrkdwn to HTML: special <tokens>, then *bold*, _italic_, ~strike~, `code`, ```pre```. */
function mrkdwn(text) {
  const parts = String(text).split(/(<[^<>]*>)/g);
  let out = '';
  for (const part of parts) {
    const m = /^<([^<>]*)>$/.exec(part);
    if (!m) {
      out += html(unslack(part));
      continue;
    }
    const [target, label] = m[1].split('|');
    if (target.startsWith('@')) out += `<span class="mention">@${html(personName(target.slice(1)))}</span>`;
    else if (target.startsWith('#'))
      out += `<span class="mention">#${html((ui.state && ui.state.channels[target.slice(1)]) || label || target.slice(1))}</span>`;
    else if (target.startsWith('!date^')) {
      const ts = Number(target.split('^')[1]);
      out += html(new Date(ts * 1000).toLocaleString());
    } else if (target.startsWith('!')) out += `<span class="mention">@${html(target.slice(1))}</span>`;
    else if (/^https:\/\/device\.sso\.[a-z0-9-]+\.amazonaws\.com\/\?user_code=/.test(target))
      // The sign-in link of /idc drill --sign-in: the sandbox's stand-in IdP opens instead.
      out += `<a href="#" data-signin="${html(target.split('user_code=')[1])}">${html(unslack(label || target))}</a>`;
    else if (/^(https?|mailto):/.test(target))
      out += `<a href="${html(target)}" target="_blank" rel="noopener">${html(unslack(label || target))}</a>`;
    else out += html(unslack(part));
  }
  return out
    .replace(/```([\s\S]*?)```/g, (_, c) => `<pre>${c}</pre>`)
    .replace(/`([^`\n]+)`/g, (_, c) => `<code>${c}</code>`)
    .replace(/(^|[\s(>])\*([^*\n]+)\*/g, '$1<b>$2</b>')
    .replace(/(^|[\s(>])_([^_\n]+)_/g, '$1<i>$2</i>')
    .replace(/(^|[\s(>])~([^~\n]+)~/g, '$1<s>$2</s>')
    .replace(/\n/g, '<br>');
}

const textObj = (t) => (!t ? '' : t.type === 'mrkdwn' ? mrkdwn(t.text) : html(t.text));

function button(el, ctx) {
  const style = el.style ? ` ${el.style}` : '';
  return `<button class="btn${style}" data-action="${html(el.action_id)}" data-value="${html(el.value || '')}" data-channel="${html(ctx.channel)}" data-ts="${html(ctx.ts)}"${ctx.home ? ' data-home="1"' : ''} data-confirm="${html(el.confirm ? JSON.stringify(el.confirm) : '')}">${html(el.text.text)}</button>`;
}

/** An input block's element: a text field, a select, checkboxes or a number. */
function field(b) {
  const el = b.element;
  const attrs = `data-block="${html(b.block_id)}" data-input="${html(el.action_id)}" aria-label="${html(b.label.text)}"`;
  switch (el.type) {
    case 'static_select':
      return `<select ${attrs} data-kind="select"><option value="">${html((el.placeholder || { text: 'Choose' }).text)}</option>${el.options
        .map((o) => `<option value="${html(o.value)}">${html(o.text.text)}</option>`)
        .join('')}</select>`;
    case 'checkboxes':
      return el.options
        .map(
          (o) =>
            `<label class="check"><input type="checkbox" ${attrs} data-kind="checkbox" value="${html(o.value)}"${(el.initial_options || []).some((i) => i.value === o.value) ? ' checked' : ''}>${html(o.text.text)}</label>`,
        )
        .join('');
    case 'number_input':
      return `<input type="number" ${attrs} data-kind="number" value="${html(el.initial_value || '')}">`;
    default:
      return el.multiline ? `<textarea rows="3" ${attrs}></textarea>` : `<input ${attrs}>`;
  }
}

/** What Slack sends for each field of a submitted modal (view.state.values). */
function fieldState(el) {
  const text = (t) => ({ type: 'plain_text', text: t });
  switch (el.dataset.kind) {
    case 'select':
      return el.value
        ? { type: 'static_select', selected_option: { text: text(el.value), value: el.value } }
        : { type: 'static_select', selected_option: null };
    case 'checkbox':
      return { type: 'checkboxes', selected_options: el.checked ? [{ text: text(el.value), value: el.value }] : [] };
    case 'number':
      return { type: 'number_input', value: el.value || null };
    default:
      return el.value;
  }
}

function blocks(list, ctx) {
  return (list || [])
    .map((b) => {
      switch (b.type) {
        case 'header':
          return `<div class="b-header">${html(b.text.text)}</div>`;
        case 'section':
          return `<div class="b-section">${b.text ? `<div class="text">${textObj(b.text)}</div>` : ''}${b.fields ? `<div class="b-fields">${b.fields.map((f) => `<div>${textObj(f)}</div>`).join('')}</div>` : ''}${b.accessory && b.accessory.type === 'button' ? button(b.accessory, ctx) : ''}</div>`;
        case 'divider':
          return '<hr class="b-divider">';
        case 'context':
          return `<div class="b-context">${b.elements.map((e) => (e.type === 'image' ? '' : textObj(e))).join(' · ')}</div>`;
        case 'actions':
          return `<div class="b-actions">${b.elements
            .filter((e) => e.type === 'button')
            .map((e) => button(e, ctx))
            .join('')}</div>`;
        case 'input':
          return `<label>${html(b.label.text)}${b.optional ? ' <span class="muted">(optional)</span>' : ''}</label>${field(b)}${b.hint ? `<div class="small muted">${html(b.hint.text)}</div>` : ''}${ctx.errors && ctx.errors[b.block_id] ? `<div class="error">${html(ctx.errors[b.block_id])}</div>` : ''}`;
        default:
          return '';
      }
    })
    .join('');
}

function messageHtml(m, inThread) {
  const bot = m.user === 'UBOT';
  const replies = inThread ? [] : ui.state.messages.filter((r) => r.thread_ts === m.ts && r.channel === m.channel);
  const when = new Date(Number(m.ts) * 1000).toLocaleTimeString();
  const body = m.blocks
    ? blocks(m.blocks, { channel: m.channel, ts: m.ts })
    : `<div class="text">${mrkdwn(m.text)}</div>`;
  return `<div class="msg" data-ts="${html(m.ts)}"><div class="avatar${bot ? ' bot' : ''}">${bot ? '⚙' : html(personName(m.user)[0])}</div><div class="body"><div class="meta"><b>${html(personName(m.user))}</b>${bot ? '<span class="app">APP</span>' : ''}<span class="muted">${when}</span>${m.edits ? ' <span class="edited">(edited)</span>' : ''}</div>${body}${replies.length ? `<div class="replies" data-thread="${html(m.ts)}">${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}</div>` : ''}</div></div>`;
}

function ephemeralHtml(e) {
  return `<div class="msg ephemeral"><div class="avatar bot">⚙</div><div class="body"><div class="meta"><b>idc-bot</b><span class="app">APP</span><span class="only">Only visible to you</span></div><div class="text">${mrkdwn(e.text)}</div></div></div>`;
}

function render() {
  const s = ui.state;
  $('who').innerHTML = Object.entries(s.people)
    .map(([id, p]) => `<option value="${id}"${id === ui.user ? ' selected' : ''}>${html(p.real_name)}</option>`)
    .join('');
  $('role').textContent = s.people[ui.user] ? s.people[ui.user].role : '';
  $('speed').value = String(s.clock.speed);
  $('clock').textContent = `sandbox time ${new Date(s.clock.now).toLocaleTimeString()} · ${s.clock.speed}×`;
  $('channels').innerHTML = Object.entries(s.channels)
    .map(([id, name]) => {
      const n = s.messages.filter((m) => m.channel === id && !m.thread_ts).length;
      return `<li data-channel="${id}" class="${id === ui.channel ? 'active' : ''}"># ${html(name)}<span class="badge">${n}</span></li>`;
    })
    .join('');
  $('channels').innerHTML +=
    `<li data-channel="@home" class="${ui.channel === '@home' ? 'active' : ''}">🏠 idc-bot Home</li>`;
  $('channel-name').textContent = ui.channel === '@home' ? 'idc-bot · Home' : `# ${s.channels[ui.channel]}`;
  $('composer').hidden = ui.channel === '@home';
  const a = s.aws;
  const down = new Set(a.faults.outage);
  $('aws-title').textContent = `AWS (emulated) · ${a.instance}, account ${a.account}`;
  $('idp-title').textContent = `IdP (emulated Okta) · ${a.instance}'s app`;
  $('aws').innerHTML = [
    ...a.regions.map(
      (r) =>
        `<div class="aws-row"><span>${html(r.name)}${r.name === a.primaryRegion ? ' (primary)' : ''}</span><span class="pill ${down.has(r.name) ? 'DOWN' : r.status}">${down.has(r.name) ? 'OUTAGE' : r.status}</span></div>`,
    ),
    `<div class="aws-row"><span>Encryption: ${a.encryption.keyType === 'AWS_OWNED_KMS_KEY' ? 'AWS owned key' : 'customer key'}</span><span class="pill ${a.encryption.status}">${a.encryption.status}</span></div>`,
    ...a.keys.map(
      (k) =>
        `<div class="aws-row"><span>key ${html(k.keyId.slice(0, 12))}… ${html(k.region)}</span><span class="pill ${k.state}">${k.state}</span></div>`,
    ),
    `<div class="small muted">AWS changes so far: ${html(
      Object.entries(a.mutations)
        .map(([k, v]) => `${k}×${v}`)
        .join(', ') || 'none',
    )}</div>`,
    a.faults.throttling ? `<div class="small">⚠ ${a.faults.throttling} calls will be throttled</div>` : '',
  ].join('');
  $('idp').innerHTML =
    s.idp.acsUrls
      .map(
        (u, i) =>
          `<div class="aws-row small"><span title="${html(u)}">${i === 0 ? 'main' : `#${i}`} ${html(u.replace('https://', '').replace('/platform/saml/acs/', ' … '))}</span></div>`,
      )
      .join('') || '<div class="small muted">no ACS URL</div>';
  // Only what changed on the server: a poll answered before a click's request must not undo the click.
  if (s.idp.single !== ui.idpSeen) $('single-acs').checked = ui.idpSeen = s.idp.single;
  $('outage').textContent = down.has(a.primaryRegion)
    ? `Restore ${a.primaryRegion}`
    : `Primary Region outage (${a.primaryRegion})`;

  const top = s.messages
    .filter((m) => m.channel === ui.channel && !m.thread_ts)
    .map((m) => ({ at: Number(m.ts) * 1000, html: messageHtml(m, false) }));
  const eph = s.ephemerals.filter((e) => e.channel === ui.channel).map((e) => ({ at: e.at, html: ephemeralHtml(e) }));
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  if (ui.channel === '@home')
    list.innerHTML = s.home
      ? `<div class="home">${blocks(s.home.blocks, { home: true })}</div>`
      : '<p class="muted" style="padding:0 18px">Opening the Home tab…</p>';
  else
    list.innerHTML =
      [...top, ...eph]
        .sort((x, y) => x.at - y.at)
        .map((x) => x.html)
        .join('') || '<p class="muted" style="padding:0 18px">No messages yet. Type <code>/idc help</code> below.</p>';
  if (atBottom) list.scrollTop = list.scrollHeight;

  const thread = ui.thread && s.messages.find((m) => m.ts === ui.thread);
  $('thread').hidden = !thread;
  if (thread)
    $('thread-messages').innerHTML = [thread, ...s.messages.filter((m) => m.thread_ts === thread.ts)]
      .map((m) => messageHtml(m, true))
      .join('');

  const view = s.views[s.views.length - 1];
  const key = view ? `${view.id}:${view.updates || 0}:${JSON.stringify(view.errors || {})}` : '';
  if (key !== ui.modalKey) {
    const typed = {};
    document
      .querySelectorAll('#modal [data-input]')
      .forEach((el) => (typed[el.dataset.block] = el.dataset.kind === 'checkbox' ? el.checked : el.value));
    ui.modalKey = key;
    $('modal').hidden = !view;
    $('modal').innerHTML = view
      ? `<div class="dialog" role="dialog" aria-label="${html(view.view.title.text)}"><h2>${html(view.view.title.text)}</h2><div class="content">${blocks(view.view.blocks, { errors: view.errors })}</div><div class="foot"><button class="btn" data-close="${view.id}">${html((view.view.close || { text: 'Cancel' }).text)}</button><button class="btn primary" data-submit="${view.id}">${html((view.view.submit || { text: 'Submit' }).text)}</button></div></div>`
      : '';
    document.querySelectorAll('#modal [data-input]').forEach((el) => {
      if (!(el.dataset.block in typed)) return;
      if (el.dataset.kind === 'checkbox') el.checked = typed[el.dataset.block];
      else el.value = typed[el.dataset.block];
    });
  }
}

async function api(path, body) {
  const res = await fetch(
    path,
    body ? { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : undefined,
  );
  return res.json();
}

async function refresh() {
  const user = ui.user;
  try {
    const at = `user=${encodeURIComponent(user)}&channel=${encodeURIComponent(ui.channel)}`;
    const text = await (await fetch(`/api/state?${at}`)).text();
    if (user !== ui.user) return; // switched person while this was in flight
    document.body.dataset.user = user;
    if (text !== ui.seen) {
      ui.seen = text;
      ui.state = JSON.parse(text);
      if (ui.state.people) render();
    }
  } catch {
    /* the sandbox is starting or stopping: try again */
  }
}

function confirmDialog(c) {
  return new Promise((resolve) => {
    const box = $('confirm');
    box.innerHTML = `<div class="dialog" role="alertdialog"><h2>${html(c.title.text)}</h2><div class="content">${textObj(c.text)}</div><div class="foot"><button class="btn" data-answer="no">${html(c.deny.text)}</button><button class="btn primary" data-answer="yes">${html(c.confirm.text)}</button></div></div>`;
    box.hidden = false;
    box.onclick = (ev) => {
      const answer = ev.target.dataset && ev.target.dataset.answer;
      if (!answer) return;
      box.hidden = true;
      resolve(answer === 'yes');
    };
  });
}

document.addEventListener('click', async (ev) => {
  const t = ev.target;
  if (!(t instanceof HTMLElement)) return;
  if (t.dataset.action) {
    const confirm = t.dataset.confirm ? JSON.parse(t.dataset.confirm) : null;
    if (confirm && !(await confirmDialog(confirm))) return;
    t.disabled = true;
    if (t.dataset.home)
      await api('/api/click-home', { user: ui.user, actionId: t.dataset.action, value: t.dataset.value });
    else
      await api('/api/click', {
        user: ui.user,
        channel: t.dataset.channel,
        ts: t.dataset.ts,
        actionId: t.dataset.action,
        value: t.dataset.value,
      });
    t.disabled = false;
  } else if (t.dataset.signin) {
    ev.preventDefault();
    const who = personName(ui.user);
    const ok = await confirmDialog({
      title: { type: 'plain_text', text: 'Example IdP: sign in to AWS' },
      text: {
        type: 'mrkdwn',
        text: `Sign in as *${who}* with code \`${t.dataset.signin}\`? (The sandbox's stand-in for Okta or Entra ID.)`,
      },
      confirm: { type: 'plain_text', text: 'Sign in' },
      deny: { type: 'plain_text', text: 'Deny' },
    });
    await api('/api/sign-in', { user: ui.user, userCode: t.dataset.signin, deny: !ok });
  } else if (t.dataset.thread) {
    ui.thread = t.dataset.thread;
    render();
  } else if (t.dataset.channel && t.tagName === 'LI') {
    ui.channel = t.dataset.channel;
    ui.thread = null;
    // Opening the Home tab is what makes Slack send app_home_opened.
    if (ui.channel === '@home') await api('/api/home', { user: ui.user });
    render();
    refresh();
  } else if (t.dataset.submit) {
    const values = {};
    document
      .querySelectorAll('#modal [data-input]')
      .forEach((el) => (values[el.dataset.block] = { [el.dataset.input]: fieldState(el) }));
    await api('/api/submit', { user: ui.user, viewId: t.dataset.submit, values });
    ui.modalKey = null; // redraw (or hide) the modal on the next render
  } else if (t.dataset.close) {
    await api('/api/close', { viewId: t.dataset.close });
  }
  refresh();
});

$('close-thread').onclick = () => {
  ui.thread = null;
  render();
};
$('who').onchange = async (ev) => {
  ui.user = ev.target.value;
  localStorage.setItem('idc-sandbox-user', ui.user);
  ui.seen = '';
  ui.modalKey = null; // redraw (or hide) the modal on the next render
  if (ui.channel === '@home') await api('/api/home', { user: ui.user });
  refresh();
};
$('speed').onchange = (ev) => api('/api/speed', { speed: Number(ev.target.value) }).then(refresh);
// Faults and the IdP switch act on the organization of the channel in view.
$('throttle').onclick = () => api('/api/faults', { channel: ui.channel, throttle: 20 }).then(refresh);
$('outage').onclick = () => {
  const primary = ui.state.aws.primaryRegion;
  const fault = ui.state.aws.faults.outage.includes(primary) ? { restore: primary } : { outage: primary };
  api('/api/faults', { channel: ui.channel, ...fault }).then(refresh);
};
$('clear').onclick = () => api('/api/faults', { channel: ui.channel, clear: true }).then(refresh);
$('single-acs').onchange = (ev) => api('/api/idp', { channel: ui.channel, single: ev.target.checked }).then(refresh);
$('composer').onsubmit = async (ev) => {
  ev.preventDefault();
  const text = $('text').value.trim();
  if (!text) return;
  $('text').value = '';
  await api('/api/command', { user: ui.user, channel: ui.channel, text });
  refresh();
};

refresh();
setInterval(refresh, 500);
