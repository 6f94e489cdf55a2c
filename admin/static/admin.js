// The admin page of transdbd: browse, edit and try translation tables
// through the HTTP API of the server that serves the page. Plain
// JavaScript, no library, no build step.
//
// The DOM is the editor's model: an editor holds .block elements, each
// holding .row elements in screen order; a row remembers the id of the
// stored record it shows (data-id), a new row has none. Saving renumbers
// blocks and orders from the screen positions, as
// Apache2::Translation::Admin did, compares the rows with the list as it
// was loaded (the base) and sends the differences as one POST /v1/txn
// with the generation of the base, so that a save against a table that
// changed meanwhile is refused instead of overwriting the other change.
'use strict';

(() => {
  const TOKEN_KEY = 'transdb-admin-token';
  const PROVIDER_KEY = 'transdb-admin-provider';
  const PAGE = 200; // block lists a section shows at a time
  const SECTIONS = ['pre', 'lookupfile', 'process', 'sub'];
  const NEW_URI = {pre: ':PRE:', lookupfile: ':LOOKUPFILE:', process: '/', sub: 'subroutine'};
  const MAX_TRACE_LISTS = 12; // lists a tried request opens at most
  const MAX_RESAVES = 3; // saves sent again when only other lists changed
  const BLOCK_LINE = '\u2500\u2500 block \u2500\u2500'; // a block's start in a diff
  // A browser sends a header value of ASCII only: fetch refuses other
  // characters, or sends them as Latin-1 bytes no UTF-8 token equals.
  const BAD_TOKEN = 'the token holds characters a browser cannot send in a header: use an ASCII token';
  const sendable = (t) => /^[\x20-\x7e]*$/.test(t);

  const state = {
    providers: [],
    writes: false,
    provider: null, // the selected one of providers
    filter: '',
    editors: [], // open editors, in screen order
    lastEditor: null, // the editor last focused, for the keyboard
    decision: null, // the decision of the last tried request
    generation: 0,
  };

  // ---- small helpers -------------------------------------------------

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  // el makes an element: props are attributes, except class, text,
  // dataset, hidden, value and on (event listeners).
  function el(tag, props = {}, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k === 'hidden') e.hidden = true;
      else if (k === 'value') e.value = v;
      else if (k === 'on') for (const [ev, fn] of Object.entries(v)) e.addEventListener(ev, fn);
      else e.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c !== null && c !== undefined && c !== false) e.append(c);
    }
    return e;
  }

  function say(text, isError = false) {
    const m = $('#message');
    m.textContent = text;
    m.classList.toggle('error', isError);
    m.hidden = !text;
  }

  const token = () => sessionStorage.getItem(TOKEN_KEY) || '';

  function setToken(t) {
    if (t) sessionStorage.setItem(TOKEN_KEY, t);
    else sessionStorage.removeItem(TOKEN_KEY);
    renderMode();
  }

  const writable = () => state.writes && state.provider !== null && !state.provider.readonly;

  function showGeneration(g) {
    if (typeof g === 'number' && g >= state.generation) {
      state.generation = g;
      $('#generation').textContent = 'generation ' + g;
    }
  }

  // ---- the API -------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message, generation) {
      super(message);
      this.status = status;
      this.generation = generation;
    }
  }

  // api sends a request to the API and returns the decoded JSON body; an
  // error answer throws an ApiError. GET requests name the selected
  // table with basekey, a txn does in its body. Writes carry the token.
  async function api(method, path, params = {}, body = undefined) {
    const url = new URL(path, location.href);
    if (method === 'GET' && state.provider !== null && path !== '/v1/providers') {
      const bk = state.provider.basekey;
      if (bk.length === 0) url.searchParams.append('basekey', '');
      for (const k of bk) url.searchParams.append('basekey', k);
    }
    for (const [k, v] of Object.entries(params)) {
      if (v === undefined || v === null || v === '') continue;
      for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(x));
    }
    const init = {method, headers: {Accept: 'application/json'}, credentials: 'omit', cache: 'no-store'};
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
      if (!sendable(token())) throw new ApiError(0, BAD_TOKEN, null);
      if (token()) init.headers.Authorization = 'Bearer ' + token();
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'the server cannot be reached: ' + e.message, null);
    }
    const g = resp.headers.get('X-Transdb-Generation');
    const generation = g === null ? null : Number(g);
    let data = null;
    try {
      data = await resp.json();
    } catch (e) {
      data = null;
    }
    if (!resp.ok) throw new ApiError(resp.status, (data && data.error) || resp.statusText, generation);
    return data;
  }

  // ---- mode, token and providers -------------------------------------

  function renderMode() {
    const mode = $('#mode');
    document.body.classList.toggle('readonly', !writable());
    let text = 'editable';
    if (state.provider === null) text = '';
    else if (state.provider.readonly) text = 'read-only table';
    else if (!state.writes) text = 'read-only: writes are disabled (no AdminToken configured)';
    mode.textContent = text;
    mode.classList.toggle('readonly', !writable());
    $('#token-form').hidden = !writable() || token() !== '';
    $('#token-state').hidden = !writable() || token() === '';
    for (const ed of state.editors) ed.updateReadOnly();
  }

  async function init() {
    wire();
    loadMenu();
    let res;
    try {
      res = await api('GET', '/v1/providers');
    } catch (e) {
      say('cannot read the tables: ' + e.message, true);
      return;
    }
    state.writes = res.writes;
    state.providers = res.providers;
    if (res.translation_key) $('#try-form').elements.key.placeholder = res.translation_key;
    const sel = $('#provider');
    res.providers.forEach((p, i) => {
      const name = p.basekey.length ? p.basekey.join(' ') : '(top of the file)';
      sel.append(el('option', {value: i, text: name + (p.readonly ? ' (read-only)' : '')}));
    });
    $('#provider-choice').hidden = res.providers.length < 2;
    let i = Number(sessionStorage.getItem(PROVIDER_KEY) || 0);
    if (!(i >= 0 && i < res.providers.length)) i = 0;
    sel.value = String(i);
    await selectProvider(i);
  }

  async function selectProvider(i) {
    state.provider = state.providers[i];
    sessionStorage.setItem(PROVIDER_KEY, String(i));
    for (const ed of [...state.editors]) ed.remove();
    state.generation = 0;
    showGeneration(state.provider.generation);
    renderMode();
    if (!state.provider.ready) say('this table has no database yet', true);
    await loadSections();
  }

  // ---- browsing --------------------------------------------------------

  async function loadSections() {
    await Promise.all(SECTIONS.map((s) => loadSection(s, false)));
    markOpenLists();
  }

  // loadSection shows the first page of a section's lists, or with more
  // the next page. A page is loaded once: "more" while a page is on its
  // way does nothing, and a first page drops the answer of an older
  // request.
  async function loadSection(name, more) {
    const sec = $(`.section[data-section="${name}"]`);
    const ul = $('.lists', sec);
    const button = $('.more', sec);
    if (more && sec.loading) return;
    const seq = sec.seq = (sec.seq || 0) + 1;
    sec.loading = true;
    button.disabled = true;
    const params = {section: name, filter: state.filter, limit: PAGE};
    if (more && sec.last) {
      params.after_key = sec.last[0];
      params.after_uri = sec.last[1];
    }
    let res;
    try {
      res = await api('GET', '/v1/lists', params);
    } catch (e) {
      say('cannot list the block lists: ' + e.message, true);
      return;
    } finally {
      if (sec.seq === seq) {
        sec.loading = false;
        button.disabled = false;
      }
    }
    if (sec.seq !== seq) return;
    if (!more) {
      ul.replaceChildren();
      sec.last = null;
    }
    for (const l of res.lists) ul.append(listItem(l.key, l.uri));
    if (res.lists.length) {
      const last = res.lists[res.lists.length - 1];
      sec.last = [last.key, last.uri];
    }
    $('.count', sec).textContent = `(${res.total})`;
    button.hidden = !res.more;
    button.textContent = `show ${Math.min(PAGE, res.total - ul.children.length)} more of ${res.total - ul.children.length}`;
    showGeneration(res.generation);
  }

  function listItem(key, uri) {
    return el('li', {dataset: {key, uri}},
      el('button', {type: 'button', title: key + ' ' + uri, on: {click: () => toggleList(key, uri)}},
        el('span', {class: 'key', text: key}), ' ', el('span', {class: 'uri', text: uri})));
  }

  function markOpenLists() {
    for (const li of $$('.lists li')) {
      li.classList.toggle('open', editorFor(li.dataset.key, li.dataset.uri) !== undefined);
    }
  }

  async function applyFilter(e) {
    e.preventDefault();
    const filter = $('#filter').value.trim();
    const err = $('#filter-error');
    err.hidden = true;
    state.filter = filter;
    if (filter !== '') {
      try {
        await api('GET', '/v1/lists', {filter, limit: 1});
      } catch (x) {
        // As Apache2::Translation::Admin: a filter that is no regular
        // expression shows everything.
        err.textContent = x.message + ': showing all keys';
        err.hidden = false;
        state.filter = '';
      }
    }
    await loadSections();
  }

  const editorFor = (key, uri) => state.editors.find((ed) => ed.key === key && ed.uri === uri);

  async function toggleList(key, uri) {
    const ed = editorFor(key, uri);
    if (ed) ed.close();
    else await openList(key, uri, 'top');
  }

  // openList opens the list of key and uri in a new editor, at the top or
  // the bottom of the editors; an open one is only shown.
  async function openList(key, uri, where) {
    let ed = editorFor(key, uri);
    if (ed) {
      ed.el.scrollIntoView({block: 'nearest'});
      return ed;
    }
    ed = new Editor(key, uri, false);
    ed.attach(where);
    await ed.load();
    return ed;
  }

  async function newList(section) {
    if (!writable()) return;
    const uri = NEW_URI[section];
    for (let i = 0; i < 1000; i++) {
      const key = i ? 'newkey' + i : 'newkey';
      if (editorFor(key, uri)) continue;
      let res;
      try {
        res = await api('GET', '/v1/fetch', {key, uri});
      } catch (e) {
        say(e.message, true);
        return;
      }
      if (res.blocks.length) continue;
      const ed = new Editor(key, uri, true);
      ed.generation = res.generation;
      ed.attach('top');
      ed.render([]);
      const row = ed.newRow({action: '', note: ''});
      ed.blocksEl.append(ed.newBlock(row));
      ed.renumber();
      $('.action', row).focus();
      return;
    }
  }

  // ---- the editor of one block list -----------------------------------

  let editorCount = 0;

  class Editor {
    constructor(key, uri, isNew) {
      this.key = key; // as loaded: the list the base is of
      this.uri = uri;
      this.isNew = isNew;
      this.base = []; // the rows as loaded: {id, block, order, action, note}
      this.generation = 0; // the generation the base is of
      this.confirming = false; // the changes are shown, waiting for the save
      this.saving = false; // a save is in flight: the editor is read-only
      this.el = el('article', {class: 'editor', id: 'editor-' + ++editorCount, dataset: {key, uri}});
      this.keyInput = el('input', {class: 'list-key', value: key, 'aria-label': 'key', spellcheck: 'false'});
      this.uriInput = el('input', {class: 'list-uri', value: uri, 'aria-label': 'uri', spellcheck: 'false'});
      this.loadedEl = el('span', {class: 'loaded'});
      this.dirtyEl = el('span', {class: 'dirty-mark', text: 'changed', hidden: true});
      this.savingEl = el('span', {class: 'saving-mark', text: 'saving\u2026', hidden: true});
      const tool = (op, text, title, cls) => el('button', {type: 'button', class: cls, dataset: {op}, title, text});
      this.el.append(
        el('header', {},
          el('label', {}, 'key ', this.keyInput), el('label', {}, 'uri ', this.uriInput),
          this.loadedEl, this.dirtyEl, this.savingEl,
          el('span', {class: 'tools'},
            tool('save', 'Save', 'show the changes, then save them in one transaction (Ctrl-S)', 'save'),
            tool('reload', 'Reload', 'load the list again (Ctrl-Shift-U)'),
            tool('history', 'History', 'the recent changes of this list in the journal'),
            tool('close', 'Close', 'close the list (Ctrl-Shift-C)'))),
        this.findingsEl = el('div', {class: 'findings-summary', hidden: true}),
        this.panelEl = el('div', {class: 'panel', hidden: true}),
        this.blocksEl = el('div', {class: 'blocks'}),
        this.historyEl = el('div', {class: 'panel history', hidden: true}));
      this.el.addEventListener('click', (e) => this.onClick(e));
      this.el.addEventListener('input', (e) => {
        if (e.target.tagName === 'TEXTAREA') fitRows(e.target);
        this.changed();
      });
      this.el.addEventListener('focusin', () => { state.lastEditor = this; });
    }

    attach(where) {
      const box = $('#editors');
      if (where === 'bottom') {
        box.append(this.el);
        state.editors.push(this);
      } else {
        box.prepend(this.el);
        state.editors.unshift(this);
      }
      $('#nothing-open').hidden = true;
      this.updateReadOnly();
      markOpenLists();
      this.el.scrollIntoView({block: 'nearest'});
    }

    remove() {
      this.el.remove();
      state.editors = state.editors.filter((ed) => ed !== this);
      if (state.lastEditor === this) state.lastEditor = null;
      $('#nothing-open').hidden = state.editors.length > 0;
      markOpenLists();
    }

    // updateReadOnly makes the fields read-only on a read-only page and
    // while a save is in flight.
    updateReadOnly() {
      const ro = !writable() || this.saving;
      for (const t of $$('textarea, input', this.el)) t.readOnly = ro;
    }

    // setSaving marks a save in flight, or its end: the fields are
    // read-only, the save buttons disabled, and the header says so.
    setSaving(on) {
      this.saving = on;
      this.savingEl.hidden = !on;
      this.el.classList.toggle('saving', on);
      for (const b of $$('button.save', this.el)) b.disabled = on;
      this.updateReadOnly();
    }

    // load fetches the list with its notes and the findings of check,
    // and shows them; edits are discarded.
    async load() {
      let list, check;
      try {
        [list, check] = await Promise.all([
          api('GET', '/v1/fetch', {key: this.key, uri: this.uri, notes: 1}),
          api('GET', '/v1/check', {key: this.key, uri: this.uri}),
        ]);
      } catch (e) {
        say(`cannot load ${this.key} ${this.uri}: ${e.message}`, true);
        return;
      }
      this.isNew = false;
      this.keyInput.value = this.key;
      this.uriInput.value = this.uri;
      this.el.dataset.key = this.key;
      this.el.dataset.uri = this.uri;
      this.setBase(list.blocks, list.generation);
      this.render(list.blocks);
      this.showFindings(check.findings);
      this.closePanel();
      if (!this.historyEl.hidden) await this.showHistory();
      highlightTrace();
      showGeneration(list.generation);
    }

    setBase(blocks, generation) {
      this.base = rowsOf(blocks);
      this.generation = generation;
      this.loadedEl.textContent = 'loaded from generation ' + generation;
    }

    // render shows rows grouped by block. Text areas the user resized
    // keep their heights, row by row, as on the Perl page.
    render(blocks) {
      const heights = $$('.row', this.blocksEl).map((r) => [$('.action', r).style.height, $('.note', r).style.height]);
      this.blocksEl.replaceChildren();
      let block = null;
      let last = null;
      for (const b of blocks) {
        const row = this.newRow({id: b.id, action: b.action, note: b.note || ''});
        if (block === null || b.block !== last) {
          block = this.newBlock();
          this.blocksEl.append(block);
          last = b.block;
        }
        block.append(row);
      }
      $$('.row', this.blocksEl).forEach((r, i) => {
        if (i >= heights.length) return;
        $('.action', r).style.height = heights[i][0];
        $('.note', r).style.height = heights[i][1];
      });
      this.updateReadOnly();
      this.renumber();
    }

    newBlock(...rows) {
      return el('div', {class: 'block'}, ...rows);
    }

    newRow(rec) {
      const action = el('textarea', {class: 'action', spellcheck: 'false', 'aria-label': 'action', value: rec.action});
      const note = el('textarea', {class: 'note', spellcheck: 'false', 'aria-label': 'note', placeholder: 'note', value: rec.note});
      fitRows(action);
      fitRows(note);
      const b = (op, text, title) => el('button', {type: 'button', dataset: {op}, title, text});
      const row = el('div', {class: 'row'},
        el('div', {class: 'pos'}), action, note,
        el('div', {class: 'row-tools'},
          b('up', '\u25b2', 'move the action up (Alt-\u2191)'),
          b('down', '\u25bc', 'move the action down (Alt-\u2193)'),
          b('add-above', '+\u25b2', 'new action above (Ctrl-,)'),
          b('add-below', '+\u25bc', 'new action below (Ctrl-.)'),
          b('block-above', '\u229e\u25b2', 'new block above (Ctrl-Shift-,)'),
          b('block-below', '\u229e\u25bc', 'new block below (Ctrl-Shift-.)'),
          b('delete', '\u2715', 'delete the action (Ctrl-Shift-D)')),
        el('div', {class: 'finding', hidden: true}),
        el('div', {class: 'trace-mark', hidden: true}));
      if (rec.id) row.dataset.id = String(rec.id);
      else row.classList.add('new');
      return row;
    }

    // renumber drops empty blocks, numbers the rows from their
    // positions and marks the rows that differ from the base, and those
    // it does not have.
    renumber() {
      const base = new Map(this.base.map((r) => [String(r.id), r]));
      let bi = 0;
      for (const block of $$('.block', this.blocksEl)) {
        const rows = $$('.row', block);
        if (!rows.length) {
          block.remove();
          continue;
        }
        block.className = 'block c' + (bi % 3);
        rows.forEach((row, oi) => {
          $('.pos', row).textContent = bi + '.' + oi;
          const old = base.get(row.dataset.id);
          // A row whose record another writer replaced is new now too.
          row.classList.toggle('new', old === undefined);
          row.classList.toggle('changed', old !== undefined &&
            (old.block !== bi || old.order !== oi || old.action !== $('.action', row).value || old.note !== $('.note', row).value));
        });
        bi++;
      }
      const empty = bi === 0;
      let hint = $('.empty-list', this.blocksEl);
      if (empty && !hint) {
        hint = el('p', {class: 'empty-list', text: this.base.length ?
          'All actions deleted: saving deletes the list.' : 'This list has no actions.'});
        if (writable()) {
          hint.append(' ', el('button', {type: 'button', dataset: {op: 'first-row'}, text: 'add an action'}));
        }
        this.blocksEl.append(hint);
      } else if (!empty && hint) {
        hint.remove();
      }
    }

    changed() {
      this.renumber();
      this.dirtyEl.hidden = this.ops().length === 0;
      if (this.confirming) this.closePanel();
    }

    // current returns the list as the editor shows it: its key and uri,
    // and its rows numbered by position. Empty new rows are left out, as
    // the Perl page left them; a new row with a note only is not (see
    // refusesNoteOnly).
    current() {
      const rows = [];
      let bi = 0;
      for (const block of $$('.block', this.blocksEl)) {
        let oi = 0;
        for (const row of $$('.row', block)) {
          const action = $('.action', row).value;
          const note = $('.note', row).value;
          if (!row.dataset.id && action.trim() === '' && note.trim() === '') continue;
          rows.push({id: row.dataset.id ? Number(row.dataset.id) : 0, block: bi, order: oi++, action, note});
        }
        if (oi > 0) bi++;
      }
      return {key: this.keyInput.value.trim(), uri: this.uriInput.value.trim(), rows};
    }

    // ops returns the txn ops that turn the base into the current list:
    // deletes, then updates, then inserts.
    ops() {
      const cur = this.current();
      const base = new Map(this.base.map((r) => [r.id, r]));
      const moved = cur.key !== this.key || cur.uri !== this.uri;
      const rec = (r) => {
        const o = {key: cur.key, uri: cur.uri, block: r.block, order: r.order, action: r.action};
        if (r.note !== '') o.note = r.note;
        return o;
      };
      const old = (r) => ({key: this.key, uri: this.uri, block: r.block, order: r.order, id: r.id});
      const deletes = [];
      const updates = [];
      const inserts = [];
      const seen = new Set();
      for (const r of cur.rows) {
        const o = base.get(r.id);
        if (o === undefined) {
          inserts.push({op: 'insert', ...rec(r)});
          continue;
        }
        seen.add(r.id);
        if (moved || o.block !== r.block || o.order !== r.order || o.action !== r.action || o.note !== r.note) {
          updates.push({op: 'update', old: old(o), new: rec(r)});
        }
      }
      for (const o of this.base) {
        if (!seen.has(o.id)) deletes.push({op: 'delete', old: old(o)});
      }
      return [...deletes, ...updates, ...inserts];
    }

    onClick(e) {
      const b = e.target.closest('button[data-op]');
      if (!b || !this.el.contains(b)) return;
      const row = b.closest('.row');
      const op = b.dataset.op;
      if (this.saving && op !== 'history') return;
      switch (op) {
        case 'save': this.saveKey(); break;
        case 'confirm-save': this.save(); break;
        case 'cancel': this.closePanel(); break;
        case 'reload': this.reload(); break;
        case 'close': this.close(); break;
        case 'history': this.toggleHistory(); break;
        case 'discard-reload': this.load(); break;
        case 'discard-close': this.remove(); break;
        case 'first-row': {
          const r = this.newRow({action: '', note: ''});
          this.blocksEl.append(this.newBlock(r));
          this.changed();
          $('.action', r).focus();
          break;
        }
        default: if (row) this.rowOp(row, op);
      }
    }

    // rowOp edits the list at a row: move, insert, delete.
    rowOp(row, op) {
      if (!writable()) return;
      const block = row.parentElement;
      let focus = null;
      switch (op) {
        case 'up': {
          const prev = row.previousElementSibling;
          if (prev) block.insertBefore(row, prev);
          else if (block.previousElementSibling) block.previousElementSibling.append(row);
          focus = $('.action', row);
          break;
        }
        case 'down': {
          const next = row.nextElementSibling;
          if (next) block.insertBefore(next, row);
          else if (block.nextElementSibling && block.nextElementSibling.classList.contains('block')) {
            block.nextElementSibling.prepend(row);
          }
          focus = $('.action', row);
          break;
        }
        case 'add-above':
        case 'add-below': {
          const r = this.newRow({action: '', note: ''});
          block.insertBefore(r, op === 'add-above' ? row : row.nextElementSibling);
          focus = $('.action', r);
          break;
        }
        case 'block-above':
        case 'block-below': {
          const r = this.newRow({action: '', note: ''});
          this.blocksEl.insertBefore(this.newBlock(r), op === 'block-above' ? block : block.nextElementSibling);
          focus = $('.action', r);
          break;
        }
        case 'delete': {
          const near = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          if (near) focus = $('.action', near);
          break;
        }
        default:
          return;
      }
      this.changed();
      if (focus) focus.focus();
    }

    showPanel(cls, ...children) {
      this.panelEl.className = 'panel ' + cls;
      this.panelEl.replaceChildren(...children);
      this.panelEl.hidden = false;
      this.panelEl.scrollIntoView({block: 'nearest'});
    }

    closePanel() {
      this.panelEl.hidden = true;
      this.panelEl.replaceChildren();
      this.confirming = false;
    }

    // saveKey is the Save button and Ctrl-S: the first shows the
    // changes, the second saves them.
    saveKey() {
      if (this.confirming) this.save();
      else this.showChanges();
    }

    showChanges() {
      if (!writable() || this.refusesNoteOnly()) return;
      const ops = this.ops();
      if (!ops.length) {
        say(`${this.key} ${this.uri}: nothing to save, the list is as loaded`);
        return;
      }
      const cur = this.current();
      const count = (kind) => ops.filter((o) => o.op === kind).length;
      this.showPanel('changes',
        el('h3', {text: `Changes to save: ${count('update')} updated, ${count('insert')} new, ${count('delete')} deleted`}),
        diffList(listLines(this.key, this.uri, this.base), listLines(cur.key, cur.uri, cur.rows)),
        el('div', {class: 'buttons'},
          el('button', {type: 'button', class: 'save', dataset: {op: 'confirm-save'}, text: 'Save these changes (Ctrl-S)'}),
          el('button', {type: 'button', dataset: {op: 'cancel'}, text: 'Back to editing (Escape)'})));
      this.confirming = true;
      $('.save', this.panelEl).focus();
    }

    // save saves the changes in one transaction. A save is exclusive:
    // while it is in flight the editor is read-only and another save
    // does nothing.
    async save() {
      if (this.saving) return;
      this.confirming = false;
      if (!token()) {
        say('Enter the AdminToken to save; your changes are kept.', true);
        $('#token').focus();
        return;
      }
      if (this.refusesNoteOnly()) return;
      if (!this.ops().length) {
        this.closePanel();
        return;
      }
      this.setSaving(true);
      let saved = '';
      try {
        saved = await this.send();
      } finally {
        this.setSaving(false);
      }
      if (!saved) return;
      await loadSections();
      say(saved);
    }

    // send posts the changes with the generation of the base. It returns
    // what it saved, or '' when it did not save and said why. When the
    // table changed meanwhile but this list did not (another list was
    // saved), it sends the changes again against the new generation.
    async send() {
      const cur = this.current();
      const renamed = !this.isNew && (cur.key !== this.key || cur.uri !== this.uri);
      let ops;
      let res;
      for (let tries = 0; ; tries++) {
        try {
          const taken = await this.taken(cur);
          if (taken) {
            this.refuse(taken);
            return '';
          }
          ops = this.ops();
          res = await api('POST', '/v1/txn', {}, {basekey: state.provider.basekey, generation: this.generation, ops});
          break;
        } catch (e) {
          if (e.status !== 409) {
            this.failed(e);
            return '';
          }
          let now;
          try {
            const list = await api('GET', '/v1/fetch', {key: this.key, uri: this.uri, notes: 1});
            now = {rows: rowsOf(list.blocks), generation: list.generation};
          } catch (x) {
            this.refuse(`${e.message}; the list cannot be read again: ${x.message}`);
            return '';
          }
          if (!sameRows(this.base, now.rows) || tries >= MAX_RESAVES) {
            this.conflict(e, now);
            return '';
          }
          this.setBase(now.rows, now.generation);
        }
      }
      this.key = cur.key;
      this.uri = cur.uri;
      this.isNew = false; // it exists now, even if loading it again fails
      showGeneration(res.generation);
      if (cur.rows.length === 0) {
        this.remove();
        return `Saved: deleted the list ${cur.key} ${cur.uri} (generation ${res.generation}).`;
      }
      await this.load();
      this.dirtyEl.hidden = true;
      return `Saved ${cur.key} ${cur.uri}${renamed ? ' (renamed)' : ''}: ${ops.length} changes, generation ${res.generation}.`;
    }

    // taken says why the list cannot be saved under the key and uri the
    // editor shows when they name another list that has rows (saving
    // would merge the two lists), else ''.
    async taken(cur) {
      if (!this.isNew && cur.key === this.key && cur.uri === this.uri) return '';
      const n = (await api('GET', '/v1/fetch', {key: cur.key, uri: cur.uri})).blocks.length;
      if (!n) return '';
      return `${cur.key} ${cur.uri} exists already with ${n} ${n === 1 ? 'row' : 'rows'}: open it to edit it, or choose another key or uri`;
    }

    // refusesNoteOnly refuses to save a new row with a note but no
    // action (an empty action is no action: the engine warns of it on
    // every request), naming the row; it returns whether it refused.
    refusesNoteOnly() {
      const row = $$('.row', this.blocksEl).find((r) => !r.dataset.id &&
        $('.action', r).value.trim() === '' && $('.note', r).value.trim() !== '');
      if (!row) return false;
      this.refuse(`row ${$('.pos', row).textContent} has a note but no action: write its action, or delete the row`);
      $('.action', row).focus();
      return true;
    }

    // refuse says why the changes were not saved; they are kept.
    refuse(why) {
      say(`Not saved: ${why}. Your changes are kept.`, true);
      this.closePanel();
    }

    // failed reports a save the API refused for another reason than a
    // conflict.
    failed(e) {
      if (e.status !== 401) {
        this.refuse(e.message);
        return;
      }
      setToken('');
      say(`Not saved: the token was refused (${e.message}). Enter the AdminToken and save again; your changes are kept.`, true);
      this.closePanel();
      $('#token').focus();
    }

    // conflict shows why a save was refused: the list as it is now, now,
    // next to the list as it was loaded. The base becomes the list as it
    // is now, and the editor shows the user's changes made again on it
    // (see rebase), so that the next save makes only them and keeps the
    // other change. When the other change touched rows the user changed
    // too, the editor keeps the user's list as it is: the next save
    // shows what it replaces.
    conflict(err, now) {
      const before = listLines(this.key, this.uri, this.base);
      const after = listLines(this.key, this.uri, now.rows);
      const parts = [el('h3', {text: `Not saved: the table changed since this list was loaded (generation ${this.generation}, now ${now.generation}).`})];
      const same = sameRows(this.base, now.rows);
      const rebased = same ? null : rebase(this.base, this.current().rows, now.rows);
      if (same) {
        parts.push(el('p', {text: 'This list itself was not changed: the other change was elsewhere in the table. ' +
          'Your changes are kept; save again to make them on the current version.'}));
      } else {
        parts.push(el('p', {text: 'Another change to this list was committed meanwhile (the list as you loaded it, then as it is now):'}),
          diffList(before, after),
          el('p', {text: rebased ?
            'Your changes are made again on the list as it is now, keeping the other change: save again to make them ' +
            '(the changes are shown before they are saved), or discard yours.' :
            'The other change touched rows you changed too. Your changes are kept in the editor. Saving now makes the list ' +
            'what the editor shows, replacing the version above (the changes are shown before they are saved); or discard yours.'}),
          el('div', {class: 'buttons'},
            el('button', {type: 'button', dataset: {op: 'discard-reload'}, text: 'Discard my changes and load the current version'})));
      }
      this.setBase(now.rows, now.generation);
      if (rebased) {
        this.render(rebased);
        highlightTrace();
      } else {
        this.renumber();
      }
      this.dirtyEl.hidden = !this.dirty();
      this.showPanel('conflict', ...parts);
      say(`Not saved: ${err.message}`, true);
      showGeneration(now.generation);
    }

    dirty() {
      return this.ops().length > 0;
    }

    ask(text, op, label) {
      this.showPanel('ask', el('p', {text}),
        el('div', {class: 'buttons'},
          el('button', {type: 'button', dataset: {op}, text: label}),
          el('button', {type: 'button', dataset: {op: 'cancel'}, text: 'Keep editing'})));
    }

    reload() {
      if (this.isNew) return;
      if (this.dirty()) this.ask('This list has changes that are not saved.', 'discard-reload', 'Discard them and reload');
      else this.load();
    }

    close() {
      if (this.dirty()) this.ask('This list has changes that are not saved.', 'discard-close', 'Discard them and close');
      else this.remove();
    }

    showFindings(findings) {
      for (const r of $$('.row', this.blocksEl)) {
        const f = $('.finding', r);
        f.hidden = true;
        f.textContent = '';
      }
      let n = 0;
      for (const f of findings) {
        const row = $(`.row[data-id="${f.id}"]`, this.blocksEl);
        if (!row) continue;
        const box = $('.finding', row);
        box.textContent = (f.unsupported ? '\u26a0 not supported: ' : '\u26a0 does not parse: ') + f.error;
        box.hidden = false;
        n++;
      }
      this.findingsEl.textContent = n ? `transdbd check: ${n} ${n === 1 ? 'row' : 'rows'} the engine cannot evaluate` : '';
      this.findingsEl.hidden = n === 0;
    }

    async toggleHistory() {
      if (!this.historyEl.hidden) {
        this.historyEl.hidden = true;
        return;
      }
      this.historyEl.hidden = false;
      await this.showHistory();
    }

    async showHistory() {
      let res;
      try {
        res = await api('GET', '/v1/journal', {key: this.key, uri: this.uri, limit: 50});
      } catch (e) {
        this.historyEl.replaceChildren(el('p', {class: 'error', text: 'cannot read the journal: ' + e.message}));
        return;
      }
      const rows = res.entries.map((e) => el('tr', {class: 'op-' + e.op},
        el('td', {text: e.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}),
        el('td', {text: String(e.generation)}),
        el('td', {text: e.op}),
        el('td', {text: e.op === 'clear' ? 'the whole table' : `${e.block}.${e.order} #${e.id}`}),
        el('td', {class: 'action', text: e.action || ''})));
      this.historyEl.replaceChildren(
        el('h3', {text: `Recent changes of ${this.key} ${this.uri}, newest first`}),
        rows.length ? el('table', {},
          el('thead', {}, el('tr', {}, ...['time (UTC)', 'generation', 'op', 'row', 'action'].map((h) => el('th', {text: h})))),
          el('tbody', {}, ...rows)) : el('p', {text: 'The journal has no changes of this list.'}),
        el('p', {class: 'loaded', text: 'The journal records every commit of this server: an update is a delete and an insert; notes are not journaled.' +
          (res.truncated ? ' Only the end of a long journal was read.' : '')}));
    }
  }

  // fitRows sizes a textarea to its lines, within limits.
  function fitRows(t) {
    t.rows = Math.min(12, Math.max(1, t.value.split('\n').length));
  }

  // rowsOf returns the rows of a fetch's blocks, a missing note as ''.
  const rowsOf = (blocks) => blocks.map((b) => ({id: b.id, block: b.block, order: b.order, action: b.action, note: b.note || ''}));

  // sameRows reports whether two lists of rows are the same records.
  const sameRows = (a, b) => a.length === b.length &&
    a.every((r, i) => ['id', 'block', 'order', 'action', 'note'].every((f) => r[f] === b[i][f]));

  // listItems is a list as lines for a diff, each block as a separator
  // line and its actions (with their notes), each line with its row (none
  // for a separator).
  function listItems(rows) {
    const items = [];
    let last = null;
    for (const r of rows) {
      if (r.block !== last) {
        items.push({line: BLOCK_LINE, row: null});
        last = r.block;
      }
      items.push({line: r.action + (r.note ? '\n    # ' + r.note.split('\n').join('\n    # ') : ''), row: r});
    }
    return items;
  }

  // listLines is a list as lines for a diff: the key and uri, then the
  // lines of listItems.
  const listLines = (key, uri, rows) => [`${key} ${uri}`, ...listItems(rows).map((x) => x.line)];

  // matches pairs the lines of a with those of b along a longest common
  // subsequence: pair[i] is the index in b of the line a[i] is, or -1.
  // The lines both lists start and end with are paired as they are, so
  // that a change inside a long list is found; what is left between them
  // is compared line by line unless that is too long, when it has no pairs.
  function matches(a, b) {
    const pair = new Int32Array(a.length).fill(-1);
    let s = 0;
    while (s < a.length && s < b.length && a[s] === b[s]) {
      pair[s] = s;
      s++;
    }
    let n = a.length;
    let m = b.length;
    while (n > s && m > s && a[n - 1] === b[m - 1]) {
      n--;
      m--;
      pair[n] = m;
    }
    const [an, bm] = [n - s, m - s];
    if (an * bm > 1e6) return pair;
    const lcs = Array.from({length: an + 1}, () => new Uint32Array(bm + 1));
    for (let i = an - 1; i >= 0; i--) {
      for (let j = bm - 1; j >= 0; j--) {
        lcs[i][j] = a[s + i] === b[s + j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < an && j < bm) {
      if (a[s + i] === b[s + j]) pair[s + i++] = s + j++;
      else if (lcs[i + 1][j] >= lcs[i][j + 1]) i++;
      else j++;
    }
    return pair;
  }

  // diffList shows the differences of two lists of lines, unchanged
  // lines included.
  function diffList(a, b) {
    const ul = el('ul', {class: 'diff'});
    const line = (cls, sign, text) => ul.append(el('li', {class: cls, text: sign + text.split('\n').join('\n  ')}));
    const pair = matches(a, b);
    let j = 0;
    a.forEach((l, i) => {
      if (pair[i] < 0) {
        line('del', '- ', l);
        return;
      }
      while (j < pair[i]) line('add', '+ ', b[j++]);
      line('same', '  ', l);
      j++;
    });
    while (j < b.length) line('add', '+ ', b[j++]);
    return ul;
  }

  // rebase makes the changes from the rows base to the rows mine again on
  // the rows now, the list as another writer left it. A change is a run
  // of lines of listItems (rows and block starts) that mine replaced: it
  // replaces the same lines where they are in now, or, when it replaced
  // none, goes after the line it followed. rebase returns the rows, with
  // the ids of now, or null when a line mine replaced is not in now (the
  // other writer changed or deleted a row the user changed too) or the
  // lists are too long to compare.
  function rebase(base, mine, now) {
    const [b, m, w] = [base, mine, now].map(listItems);
    const lines = (items) => items.map((x) => x.line);
    const toMine = matches(lines(b), lines(m));
    const toNow = matches(lines(b), lines(w));
    const kept = w.map(() => true);
    const before = w.map(() => []).concat([[]]); // mine's lines to put before a line of now
    let i = 0;
    let j = 0;
    while (i < b.length || j < m.length) {
      if (i < b.length && toMine[i] === j) {
        i++;
        j++;
        continue;
      }
      let i2 = i;
      while (i2 < b.length && toMine[i2] < 0) i2++;
      const j2 = i2 < b.length ? toMine[i2] : m.length;
      let at = 0;
      for (let k = i - 1; k >= 0 && i === i2; k--) {
        if (toNow[k] >= 0) {
          at = toNow[k] + 1;
          break;
        }
      }
      for (let k = i2 - 1; k >= i; k--) {
        if (toNow[k] < 0) return null;
        kept[toNow[k]] = false;
        at = toNow[k];
      }
      before[at].push(...m.slice(j, j2).map((x) => ({...x, mine: true})));
      i = i2;
      j = j2;
    }
    const out = w.flatMap((x, k) => kept[k] ? [...before[k], x] : before[k]).concat(before[w.length]);
    // A row of mine keeps its id when now still has that record, unless
    // a row of now kept there has it.
    const ids = new Set(now.map((r) => r.id));
    const used = new Set(w.filter((x, k) => kept[k] && x.row).map((x) => x.row.id));
    const rows = [];
    let block = -1;
    let open = false;
    for (const x of out) {
      if (!x.row) {
        open = false;
        continue;
      }
      if (!open) block++;
      open = true;
      let id = x.row.id;
      if (x.mine) {
        id = ids.has(id) && !used.has(id) ? id : 0;
        used.add(id);
      }
      rows.push({id, block, action: x.row.action, note: x.row.note});
    }
    return rows;
  }

  // ---- trying a request ----------------------------------------------

  async function tryRequest(e) {
    e.preventDefault();
    const f = e.target.elements;
    const params = {trace: 1, header: f.headers.value.split('\n').map((s) => s.trim()).filter((s) => s !== '')};
    for (const name of ['uri', 'host', 'method', 'client_ip', 'key', 'args', 'scheme', 'port']) {
      params[name] = f[name].value.trim();
    }
    const box = $('#decision');
    box.hidden = false;
    let d;
    try {
      d = await api('GET', '/v1/translate', params);
    } catch (x) {
      box.replaceChildren(el('p', {class: 'error', text: 'cannot translate: ' + x.message}));
      return;
    }
    state.decision = d;
    renderDecision(d);
    showGeneration(d.generation);
    // Open the lists the translation went through, in its order.
    const seen = new Set();
    for (const s of d.trace || []) {
      if (!s.id) continue;
      const k = s.key + '\u0000' + s.uri;
      if (seen.has(k) || seen.size >= MAX_TRACE_LISTS) continue;
      seen.add(k);
      if (!editorFor(s.key, s.uri)) await openList(s.key, s.uri, 'bottom');
    }
    highlightTrace();
  }

  // outcome says in one line what the decision is.
  function outcome(d) {
    if (d.status >= 300 && d.status < 400 && d.location) return [`${d.status} redirect to ${d.location}`, 'redirect'];
    if (d.status) return [`${d.status} error${d.message ? ': ' + d.message : ''}`, 'status-error'];
    if (d.proxy) return [`proxy to ${d.proxy}`, 'proxy'];
    if (d.file) return [`file ${d.file}`, 'file'];
    if (d.handler) return [`handler ${d.handler}`, 'handler'];
    if (d.doc) return [`document (${d.doc.content_type})`, 'doc'];
    return ['proceed: the table decided nothing (status 0)', 'proceed'];
  }

  function renderDecision(d) {
    const [text, cls] = outcome(d);
    const rows = [];
    const add = (name, value) => {
      if (value !== undefined && value !== '') rows.push(el('tr', {}, el('th', {text: name}), el('td', {class: 'mono', text: value})));
    };
    add('status', String(d.status));
    add('location', d.location);
    add('message', d.message);
    add('proxy', d.proxy);
    add('file', d.file);
    add('handler', d.handler);
    if (d.doc) add('document', `${d.doc.content_type}: ${d.doc.body}`);
    add('key, uri', `${d.key} ${d.uri}`);
    add('matched uri', d.matched_uri);
    add('path info', d.path_info);
    d.config.forEach(([loc, dir]) => add('config', `${loc}: ${dir}`));
    d.fixup_config.forEach(([loc, dir]) => add('fixup config', `${loc}: ${dir}`));
    for (const [k, v] of Object.entries(d.notes)) add('note ' + k, v.join(', '));
    for (const [k, v] of Object.entries(d.ctx)) add('$CTX{' + k + '}', v);
    d.errors.forEach((x) => add('error', (x.id ? `row #${x.id}: ` : '') + x.error));
    add('generation', String(d.generation));
    // The facts beside the outcome, in one line.
    const facts = [];
    if (d.matched_uri) facts.push(`matched ${d.matched_uri}`);
    if (d.path_info) facts.push(`path info ${d.path_info}`);
    for (const [k, v] of Object.entries(d.ctx)) facts.push(`$CTX{${k}}=${v}`);
    if (d.config.length) facts.push(`${d.config.length} config`);
    if (d.errors.length) facts.push(`${d.errors.length} ${d.errors.length === 1 ? 'error' : 'errors'}`);
    facts.push(`generation ${d.generation}`);
    const steps = (d.trace || []).map((s, i) => {
      const what = s.id ? (s.cond_false ? 'Cond false: the rest of the block is skipped' : s.ran ? 'ran' : 'skipped') : 'event';
      return el('li', {class: s.id && !s.ran ? 'skipped' : s.cond_false ? 'cond-false' : 'ran', dataset: {step: String(i + 1), id: String(s.id)}},
        `${s.state} `, el('span', {class: 'step-key', text: `${s.key} ${s.uri}`}),
        s.id ? ` ${s.block}.${s.order} ` : ' ', el('span', {class: 'mono', text: s.action}),
        ' \u2014 ', el('span', {class: 'what', text: what + (s.note ? ` (${s.note})` : '')}));
    });
    $('#decision').replaceChildren(...[
      el('div', {class: 'outcome ' + cls, text: text}),
      el('div', {class: 'facts', text: facts.join(' \u00b7 ')}),
      d.errors.length ? el('ul', {class: 'error'}, ...d.errors.map((x) => el('li', {text: (x.id ? `row #${x.id}: ` : '') + x.error}))) : null,
      el('details', {class: 'fields'}, el('summary', {text: 'every field of the decision'}), el('table', {}, el('tbody', {}, ...rows))),
      el('details', {class: 'steps'}, el('summary', {text: `trace: ${steps.length} steps, marked in the lists below`}), el('ol', {class: 'trace'}, ...steps)),
    ].filter((e) => e !== null));
  }

  // highlightTrace marks the rows of the open lists as the last tried
  // request's trace saw them: ran, Cond false, or skipped by a false
  // Cond before them.
  function highlightTrace() {
    const marks = new Map(); // id -> {cls, steps}
    const rank = {'skipped': 0, 'cond-false': 1, 'ran': 2};
    (state.decision ? state.decision.trace || [] : []).forEach((s, i) => {
      if (!s.id) return;
      const cls = !s.ran ? 'skipped' : s.cond_false ? 'cond-false' : 'ran';
      const m = marks.get(s.id) || {cls, steps: []};
      if (rank[cls] > rank[m.cls]) m.cls = cls;
      m.steps.push(i + 1);
      marks.set(s.id, m);
    });
    for (const row of $$('#editors .row')) {
      row.classList.remove('ran', 'skipped', 'cond-false');
      const mark = $('.trace-mark', row);
      const m = row.dataset.id ? marks.get(Number(row.dataset.id)) : undefined;
      mark.hidden = m === undefined;
      if (!m) continue;
      row.classList.add(m.cls);
      const what = {ran: 'ran', 'cond-false': 'ran: Cond false, the rest of the block was skipped', skipped: 'skipped: a Cond before it was false'}[m.cls];
      mark.textContent = `\u25b6 ${what} (step ${m.steps.join(', ')})`;
    }
  }

  function clearTrace() {
    state.decision = null;
    $('#decision').hidden = true;
    $('#decision').replaceChildren();
    highlightTrace();
  }

  // ---- the menu ------------------------------------------------------

  // loadMenu fills the pop-up menu from menu.html, the HTML fragment the
  // configuration names (AdminMenu), when the page has one: the server
  // shows its button only then. The fragment is the one HTML the page
  // inserts; its script elements are dropped, and the
  // Content-Security-Policy (no inline script) keeps any other script in
  // it, such as an onclick attribute, from running.
  async function loadMenu() {
    if ($('#menu-box').hidden) return;
    try {
      const resp = await fetch(new URL('menu.html', location.href), {credentials: 'omit', cache: 'no-cache'});
      if (!resp.ok) throw new Error(`${resp.status} ${resp.statusText}`);
      const doc = new DOMParser().parseFromString(await resp.text(), 'text/html');
      for (const s of $$('script', doc)) s.remove();
      $('#menu').replaceChildren(...Array.from(doc.body.childNodes, (n) => document.importNode(n, true)));
    } catch (e) {
      say('cannot load the menu: ' + e.message, true);
    }
  }

  function showMenu(open) {
    $('#menu').hidden = !open;
    $('#menu-button').setAttribute('aria-expanded', String(open));
  }

  // ---- the keyboard --------------------------------------------------

  function onKey(e) {
    if (e.key === 'Escape' && !$('#menu').hidden) {
      e.preventDefault();
      showMenu(false);
      $('#menu-button').focus();
      return;
    }
    const active = document.activeElement;
    const ed = (active && state.editors.find((x) => x.el.contains(active))) || state.lastEditor;
    if (!ed || !state.editors.includes(ed)) return;
    const row = active && ed.el.contains(active) ? active.closest('.row') : null;
    const ctrl = e.ctrlKey || e.metaKey;
    let act = null;
    if (ctrl && !e.shiftKey && !e.altKey && e.code === 'KeyS') act = () => ed.saveKey();
    else if (ctrl && e.shiftKey && e.code === 'KeyC') act = () => ed.close();
    else if (ctrl && e.shiftKey && e.code === 'KeyU') act = () => ed.reload();
    else if (ctrl && e.shiftKey && e.code === 'KeyD' && row) act = () => ed.rowOp(row, 'delete');
    else if (ctrl && e.code === 'Period' && row) act = () => ed.rowOp(row, e.shiftKey ? 'block-below' : 'add-below');
    else if (ctrl && e.code === 'Comma' && row) act = () => ed.rowOp(row, e.shiftKey ? 'block-above' : 'add-above');
    else if (e.altKey && !ctrl && e.key === 'ArrowUp' && row) act = () => ed.rowOp(row, 'up');
    else if (e.altKey && !ctrl && e.key === 'ArrowDown' && row) act = () => ed.rowOp(row, 'down');
    else if (e.key === 'Escape' && !ed.panelEl.hidden) act = () => ed.closePanel();
    if (act) {
      e.preventDefault();
      if (!ed.saving) act();
    }
  }

  // ---- wiring --------------------------------------------------------

  function wire() {
    $('#token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const t = $('#token').value.trim();
      $('#token').value = '';
      if (!sendable(t)) {
        say(`Token not taken: ${BAD_TOKEN}.`, true);
      } else if (t) {
        setToken(t);
        say('');
      }
    });
    $('#forget-token').addEventListener('click', () => {
      setToken('');
      say('Token forgotten.');
    });
    $('#provider').addEventListener('change', (e) => {
      if (state.editors.some((ed) => ed.dirty())) {
        say('Save or close the lists with changes first.', true);
        e.target.value = String(state.providers.indexOf(state.provider));
        return;
      }
      selectProvider(Number(e.target.value));
    });
    $('#filter-form').addEventListener('submit', applyFilter);
    $('#reload-lists').addEventListener('click', () => loadSections());
    for (const sec of $$('.section')) {
      $('.more', sec).addEventListener('click', () => loadSection(sec.dataset.section, true));
      $('.new-list', sec).addEventListener('click', () => newList(sec.dataset.section));
    }
    $('#try-form').addEventListener('submit', tryRequest);
    $('#clear-trace').addEventListener('click', clearTrace);
    document.addEventListener('keydown', onKey);
    // The menu opens and closes with its button, and closes on a click
    // elsewhere or on one of its links.
    $('#menu-button').addEventListener('click', () => showMenu($('#menu').hidden));
    $('#menu').addEventListener('click', (e) => {
      if (e.target.closest('a')) showMenu(false);
    });
    document.addEventListener('click', (e) => {
      if (!$('#menu').hidden && !$('#menu-box').contains(e.target)) showMenu(false);
    });
  }

  init();
})();
