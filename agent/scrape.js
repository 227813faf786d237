/*
 * Sextant page scraper.  Runs through WebDriver "Execute Script" (the body of
 * a function; arguments[0] is an options object) and returns a JSON string.
 *
 * Operations (options.op):
 *   (none)   scrape the current document:
 *            {url, title, elements:[…], text, textDropped, truncated,
 *             dropped:{kind:n},
 *             opaque:[[frame path]…], next}
 *   "next"   raise the id counter of this window to options.next.
 * Finding a frame or an element again is locate.js's; both scripts walk the
 * tree with walk() from walk.js, so a frame index recorded here means the
 * same frame when locate.js finds it again.
 *
 * What is listed: every visible interactive element (inputs except hidden,
 * textareas, selects, buttons, a[href], [contenteditable], ARIA widgets,
 * elements with onclick or cursor:pointer plus a click-handler hint), in the
 * document, in OPEN shadow roots (recursive) and in same-origin iframes
 * (recursive).  Closed shadow roots cannot be reached from a page script.
 * Frames the script cannot enter (cross-origin, and every file:// frame,
 * since Chromium gives file: documents opaque origins) are returned in
 * `opaque` as frame paths; scrape.c switches into them with WebDriver and
 * runs this script again there with options.path and options.next set.
 *
 * Ids: each listed element gets data-sx-id="e<N>", kept across scrapes so an
 * id stays stable from step to step.  The counter lives on the highest
 * same-origin ancestor window (__sxNext); options.next raises it so ids
 * stay unique across frames scraped separately.
 *
 * Cap strategy for huge pages (e.g. 3,000 links): every candidate is ranked
 *   0: form fields (inputs, textareas, selects, checkboxes, radios, editables,
 *      comboboxes, ARIA checkboxes/radios) and the buttons of forms, wherever
 *      they are on the page;
 *   1: other buttons, tabs and switches, plus links, clickables, options and
 *      menu items that intersect the viewport;
 *   2: the other links, clickables, options and menu items, nearest to the
 *      viewport first;
 * and at most MAX_ELEMENTS of them (fewer when options.maxElementsBytes could
 * not hold that many 40-byte lines) are returned, ranked by `p` and listed in
 * document order `o`; only those get an id.  A label is cut to 80
 * characters, a value or href to 100, a select to its first 30 options
 * ("+N more").  scrape.c then packs the lines into maxElementsBytes in rank
 * order, so the exact byte cap is enforced in one place on the exact line
 * format, and ends the list with a line saying what was dropped, e.g.
 * "… 2887 more links not shown (scroll to reach them)"; a rank 2 element is
 * marked `far` (scrape_elements_brief may leave it out of the decide
 * prompt).  `dropped` holds the
 * per-kind counts of what this script left out.  The page text (innerText
 * of the body, then of open shadow roots and same-origin frames; it includes
 * the options of selects) is cut to maxTextBytes UTF-16 units, and
 * `textDropped` counts the characters left out; scrape.c cuts to the exact
 * byte cap and adds the line that says how much was left out.  `truncated`
 * says when any cut happened.
 *
 * What needs the user's attention comes first in the page text: an open
 * dialog, alerts, toasts and status messages, and validation messages (see
 * messages()).  A modal dialog (<dialog> opened with showModal(), or a
 * visible aria-modal="true" dialog) makes the rest of the page inert: only
 * its elements are listed, and the text it covers is replaced by one line
 * saying what was left out.
 *
 * Elements whose label is not unique among those listed (forty "Delete"
 * buttons, one per table row) get the context a person tells them apart by
 * (see addContext()): `row` (the row's header or first cells' text) or `in`
 * (the heading or first text of their card, list item or section).  Only
 * those elements get it, and only as many words as make them distinct.
 *
 * A multi-select listbox (role=listbox with aria-multiselectable="true") is
 * listed as one element of kind "listbox" with its options and selection,
 * like a <select multiple>; its options are not listed one by one.
 */
var opt = arguments[0] || {};
var MAX_ELEMENTS = 250;
var LABEL_MAX = 80, VALUE_MAX = 100, OPTION_MAX = 40, OPTIONS_MAX = 30;
/* Context of a repeated label: at most CTX_PARTS pieces of CTX_PART characters. */
var CTX_PART = 40, CTX_PARTS = 3;
/* A message (alert, toast, validation) is short; a dialog may say more. */
var MESSAGE_MAX = 300, DIALOG_MAX = 2000;

var INTERACTIVE = 'input,textarea,select,button,a[href],[contenteditable=""],' +
	'[contenteditable="true"],[role=button],[role=link],[role=checkbox],' +
	'[role=radio],[role=combobox],[role=option],[role=tab],[role=menuitem],' +
	'[role=switch],[onclick]';
var ROLES = {button: 1, link: 1, checkbox: 1, radio: 1, combobox: 1, option: 1,
	tab: 1, menuitem: 1, switch: 1};
var HINT_ATTRS = ['jsaction', 'ng-click', '@click', 'v-on:click', 'data-action'];
var HINT_CLASS = /(^|[\s_-])(btn|button|clickable)([\s_-]|$)/i;

/* The highest ancestor window this script may touch (it holds the id counter). */
function counterWindow() {
	var w = window;
	try {
		while (w.parent && w.parent !== w) {
			void w.parent.document.nodeType;   /* throws when cross-origin */
			w = w.parent;
		}
	} catch (e) { /* stop at the origin boundary */ }
	return w;
}

/* Parent across shadow boundaries (host of a shadow root). */
function up(el) {
	if (el.parentElement)
		return el.parentElement;
	var r = el.parentNode;
	return r && r.host ? r.host : null;
}

function squash(s) {
	return (s || '').replace(/\s+/g, ' ').trim();
}

function cut(s, n) {
	s = squash(s);
	return s.length > n ? s.slice(0, n - 1) + '\u2026' : s;
}

/* Text of a node, skipping form controls inside it and script/style. */
function textOf(node, skip) {
	var out = '';
	var kids = node.childNodes;
	for (var i = 0; i < kids.length; i++) {
		var k = kids[i];
		if (k.nodeType === 3) {
			out += k.nodeValue;
		} else if (k.nodeType === 1 && k !== skip) {
			var t = k.localName;
			if (t === 'script' || t === 'style' || t === 'select' ||
			    t === 'textarea' || t === 'option' || t === 'template')
				continue;
			if (t === 'img' && k.alt)
				out += ' ' + k.alt + ' ';
			else
				out += ' ' + textOf(k, skip) + ' ';
		}
		if (out.length > 400)
			break;
	}
	return out;
}

function styleHidden(el) {
	if (el.checkVisibility)
		return !el.checkVisibility({opacityProperty: true, visibilityProperty: true,
			contentVisibilityAuto: true});
	var cs = getComputedStyle(el);
	if (cs.visibility === 'hidden' || cs.visibility === 'collapse')
		return true;
	for (var a = el; a; a = up(a))
		if (getComputedStyle(a).opacity === '0')
			return true;
	return false;
}

/* Hidden from users: aria-hidden or inert on the element or an ancestor. */
function ariaHidden(el) {
	for (var a = el; a; a = up(a))
		if (a.getAttribute('aria-hidden') === 'true' || a.hasAttribute('inert'))
			return true;
	return false;
}

/*
 * Visible: a non-empty client rect inside the document (not parked off-screen
 * at negative coordinates), not hidden by style, aria-hidden or inert.
 */
function visible(el) {
	if (!el.getClientRects().length)
		return false;
	var r = el.getBoundingClientRect();
	if (r.width <= 0 || r.height <= 0)
		return false;
	var w = el.ownerDocument.defaultView;
	var de = el.ownerDocument.documentElement;
	if (r.right + w.scrollX <= 0 || r.bottom + w.scrollY <= 0)
		return false;
	if (r.left + w.scrollX >= Math.max(de.scrollWidth, w.innerWidth))
		return false;
	return !styleHidden(el) && !ariaHidden(el);
}

/* Some label of el is visible (for visually hidden file/checkbox/radio inputs). */
function visibleLabel(el) {
	var ls = el.labels || [];
	for (var i = 0; i < ls.length; i++)
		if (visible(ls[i]))
			return ls[i];
	return null;
}

function kindOf(el) {
	var t = el.localName;
	if (t === 'input') {
		var type = (el.getAttribute('type') || 'text').toLowerCase();
		if (type === 'hidden')
			return null;
		if (type === 'checkbox' || type === 'radio')
			return type;
		if (type === 'submit' || type === 'button' || type === 'reset' || type === 'image')
			return 'button';
		return 'input:' + el.type;
	}
	if (t === 'textarea' || t === 'select' || t === 'button')
		return t;
	if (t === 'a' && el.hasAttribute('href'))
		return 'link';
	var role = (el.getAttribute('role') || '').toLowerCase();
	if (role === 'listbox' && el.getAttribute('aria-multiselectable') === 'true')
		return 'listbox';
	if (ROLES[role])
		return role;
	if (el.isContentEditable && !(up(el) && up(el).isContentEditable))
		return 'editable';
	if (el.hasAttribute('onclick') || typeof el.onclick === 'function')
		return 'clickable';
	return null;
}

/* A plain element that looks clickable: cursor:pointer plus a handler hint. */
function looksClickable(el) {
	var t = el.localName;
	if (t === 'label' || t === 'option' || t === 'body' || t === 'html' || isFrame(el))
		return false;
	var hint = el.hasAttribute('tabindex') || HINT_CLASS.test(el.getAttribute('class') || '');
	for (var i = 0; !hint && i < HINT_ATTRS.length; i++)
		hint = el.hasAttribute(HINT_ATTRS[i]);
	if (!hint)
		return false;
	if (getComputedStyle(el).cursor !== 'pointer')
		return false;
	/* Wrappers of real controls, and parts of them, are not listed twice. */
	if (el.querySelector(INTERACTIVE))
		return false;
	var p = up(el);
	return !(p && p.closest && p.closest(INTERACTIVE));
}

function byIdText(el, ids) {
	var root = el.getRootNode();
	var out = [];
	ids.split(/\s+/).forEach(function (id) {
		var n = id && root.getElementById ? root.getElementById(id) : null;
		if (n)
			out.push(textOf(n, null));
	});
	return squash(out.join(' '));
}

/* Short text just before el: a preceding sibling, the previous table cell, a legend. */
function nearbyText(el) {
	var n = el, s;
	for (var depth = 0; n && depth < 3; depth++, n = n.parentElement) {
		var steps = 0;
		for (var p = n.previousSibling; p && steps < 3; p = p.previousSibling, steps++) {
			if (p.nodeType === 1 && p.matches(INTERACTIVE + ',iframe'))
				break;
			s = squash(p.nodeType === 3 ? p.nodeValue : (p.nodeType === 1 ? textOf(p, null) : ''));
			if (s)
				return s.length <= 120 ? s : '';
		}
		if (n.localName === 'td' || n.localName === 'th') {
			var prev = n.previousElementSibling;
			if (prev && (s = squash(textOf(prev, null))))
				return s;
		}
	}
	var fs = el.closest && el.closest('fieldset');
	var lg = fs && fs.querySelector('legend');
	return lg ? squash(textOf(lg, null)) : '';
}

/* The text of a label element, without the text of the control inside it. */
function labelText(l, el) {
	return squash(textOf(l, el));
}

function labelOf(el, kind) {
	var s, i;
	var ls = el.labels ? Array.prototype.slice.call(el.labels) : [];
	/* <label for> first, then a wrapping label. */
	ls.sort(function (a, b) {
		return (b.htmlFor === el.id) - (a.htmlFor === el.id);
	});
	for (i = 0; i < ls.length; i++)
		if ((s = labelText(ls[i], el)))
			return s;
	if ((s = squash(el.getAttribute('aria-label'))))
		return s;
	if (el.hasAttribute('aria-labelledby') && (s = byIdText(el, el.getAttribute('aria-labelledby'))))
		return s;
	if ((s = squash(el.getAttribute('placeholder'))))
		return s;
	if ((s = squash(el.getAttribute('title') || el.getAttribute('alt'))))
		return s;
	var t = el.localName;
	if (t !== 'input' && t !== 'select' && t !== 'textarea' && kind !== 'editable' && kind !== 'listbox') {
		if ((s = squash(textOf(el, null))))
			return s;
		var svgt = el.querySelector('svg title');
		if (svgt && (s = squash(svgt.textContent)))
			return s;
	}
	if (t === 'input' && kind === 'button')
		return squash(el.value) || (el.type === 'submit' ? 'Submit' : el.type === 'reset' ? 'Reset' : '');
	if ((s = nearbyText(el)))
		return s;
	return squash(el.getAttribute('name'));
}

/* The question a radio or checkbox answers: its fieldset legend or group label. */
function groupOf(el) {
	var g = el.closest('fieldset,[role=radiogroup],[role=group]');
	if (!g)
		return '';
	if (g.localName === 'fieldset') {
		var lg = g.querySelector('legend');
		return lg ? squash(textOf(lg, null)) : '';
	}
	return squash(g.getAttribute('aria-label')) ||
		(g.hasAttribute('aria-labelledby') ? byIdText(g, g.getAttribute('aria-labelledby')) : '');
}

function shortHref(a) {
	var h = a.getAttribute('href') || '';
	try {
		var u = new URL(a.href);
		if (u.protocol === 'javascript:')
			return 'javascript:';
		if (u.origin === location.origin && u.origin !== 'null')
			h = u.pathname + u.search + u.hash;
		else
			h = u.href;
	} catch (e) { /* keep the attribute */ }
	return h;
}

/* The options of a multi-select listbox and its selection, as describe() gives a <select multiple>'s. */
function describeListbox(el, e) {
	var os = el.querySelectorAll('[role=option]'), opts = [], sel = [];
	for (var i = 0; i < os.length; i++) {
		var ot = cut(optionText(os[i]), OPTION_MAX);
		if (i < OPTIONS_MAX)
			opts.push(ot);
		if (optionSelected(os[i]))
			sel.push(ot);
	}
	e.options = opts;
	if (os.length > OPTIONS_MAX)
		e.more = os.length - OPTIONS_MAX;
	e.value = sel.join(', ');
	e.multiple = true;
}

/* Fills value, state and options of e from el. */
function describe(el, kind, e) {
	var t = el.localName;
	var role = (el.getAttribute('role') || '').toLowerCase();
	if (t === 'input' && (kind === 'checkbox' || kind === 'radio')) {
		e.checked = el.checked;
	} else if (t === 'input' && kind === 'input:file') {
		var names = [];
		for (var i = 0; el.files && i < el.files.length; i++)
			names.push(el.files[i].name);
		e.value = names.join(', ');
	} else if (t === 'input' && kind === 'input:password') {
		e.value = el.value ? '\u2022\u2022\u2022\u2022' : '';
	} else if ((t === 'input' && kind !== 'button') || t === 'textarea') {
		e.value = cut(el.value, VALUE_MAX);
	} else if (t === 'select') {
		var opts = [], sel = [];
		for (var j = 0; j < el.options.length; j++) {
			var o = el.options[j];
			var ot = cut(o.label || o.text, OPTION_MAX);
			if (j < OPTIONS_MAX)
				opts.push(ot);
			if (o.selected && (o.value !== '' || el.multiple))
				sel.push(ot);
		}
		e.options = opts;
		if (el.options.length > OPTIONS_MAX)
			e.more = el.options.length - OPTIONS_MAX;
		e.value = sel.join(', ');
		if (el.multiple)
			e.multiple = true;
	} else if (kind === 'listbox') {
		describeListbox(el, e);
	} else if (kind === 'editable') {
		e.value = cut(el.innerText, VALUE_MAX);
	} else if (kind === 'link' && t === 'a') {
		e.href = cut(shortHref(el), VALUE_MAX);
	}
	if (role === 'checkbox' || role === 'radio' || role === 'switch')
		e.checked = el.getAttribute('aria-checked') === 'true';
	if ((role === 'option' || role === 'tab') && el.getAttribute('aria-selected') === 'true')
		e.selected = true;
	if (role === 'combobox' && t !== 'input' && t !== 'select')
		e.value = cut(el.getAttribute('aria-valuetext') || textOf(el, null), VALUE_MAX);
	if (el.required || el.getAttribute('aria-required') === 'true')
		e.required = true;
	if ((el.matches && el.matches(':disabled')) || el.getAttribute('aria-disabled') === 'true')
		e.disabled = true;
	if (el.readOnly && (t === 'input' || t === 'textarea') && kind !== 'button')
		e.readonly = true;
	if (kind === 'checkbox' || kind === 'radio')
		e.group = cut(groupOf(el), LABEL_MAX);
}

/* True when another element sits on top of el's centre (a banner or modal). */
function covered(el, r) {
	var w = el.ownerDocument.defaultView;
	var x = r.left + r.width / 2, y = r.top + r.height / 2;
	if (x < 0 || y < 0 || x >= w.innerWidth || y >= w.innerHeight)
		return false;
	var root = el.getRootNode();
	var hit = root.elementFromPoint ? root.elementFromPoint(x, y) : null;
	if (!hit || hit === el || el.contains(hit))
		return false;
	var ls = el.labels || [];
	for (var i = 0; i < ls.length; i++)
		if (ls[i] === hit || ls[i].contains(hit))
			return false;
	return true;
}

/* See the cap strategy above; a form's own buttons rank with its fields. */
function rankOf(el, kind, inView) {
	if (kind === 'link' || kind === 'clickable' || kind === 'option' || kind === 'menuitem')
		return inView ? 1 : 2;
	if (kind === 'button' && (el.form || el.closest('form')))
		return 0;
	if (kind === 'button' || kind === 'tab' || kind === 'switch')
		return 1;
	return 0;
}

var state = {cands: [], opaque: [], texts: [], messages: [], order: 0, textDropped: 0};

/*
 * The page text without the lines that are only a select's option: the
 * element list shows a select's options (and how many more it has), so a
 * 200-country list in the text would repeat it at length.
 */
function withoutOptions(text, doc) {
	var opts = doc.querySelectorAll('select option');
	if (!opts.length)
		return text;
	var seen = Object.create(null);
	for (var i = 0; i < opts.length && i < 20000; i++)
		seen[squash(opts[i].text)] = true;
	return text.split('\n').filter(function (line) {
		var t = squash(line);
		return !t || !seen[t];
	}).join('\n');
}

/*
 * The modal dialog open in doc, or null: a <dialog> opened with
 * showModal(), or a visible aria-modal="true" element (the last one, which
 * stacks on top of the others).
 */
function modalOf(doc) {
	var m = null;
	try { m = doc.querySelector('dialog:modal'); } catch (e) { /* old engine */ }
	if (m)
		return m;
	var c = doc.querySelectorAll('[aria-modal="true"]');
	for (var i = c.length - 1; i >= 0; i--)
		if (visible(c[i]))
			return c[i];
	return null;
}

/* The accessible name of a dialog or field (aria-label, aria-labelledby), or ''. */
function nameOf(el) {
	return squash(el.getAttribute('aria-label')) ||
		(el.hasAttribute('aria-labelledby') ? byIdText(el, el.getAttribute('aria-labelledby')) : '');
}

var TOAST_CLASS = /(^|[\s_-])(toast|snackbar|flash|notification|notice|alert)([\s_-]|$)/i;
var ERROR_CLASS = /(^|[\s_-])(error|errors|invalid-feedback|error-message|field-error|errormessage)([\s_-]|$)/i;
/* The elements that may be a message: the roles, and the classes holding a word the two patterns above test. */
var MESSAGE_CANDIDATES = '[role=alert],[aria-live=assertive],[role=status],[class*=toast i],' +
	'[class*=snackbar i],[class*=flash i],[class*=notification i],[class*=notice i],[class*=alert i],' +
	'[class*=error i],[class*=invalid-feedback i]';

/*
 * What the user must see before the rest of the page, in this order: the
 * modal dialog (whole), other open dialogs, alerts, toasts and status
 * messages, and validation messages (the text a field points at with
 * aria-errormessage or aria-describedby when it is aria-invalid, error
 * text next to fields, and the browser's own message for a field the user
 * left invalid).  Each is {what, text}; an element inside one already
 * taken is not taken again.
 */
function messages(doc, modal) {
	var out = [], taken = [];
	function take(el, what, max) {
		if (!el || !visible(el))
			return;
		for (var i = 0; i < taken.length; i++)
			if (taken[i] === el || taken[i].contains(el))
				return;
		if (modal && el !== modal && !modal.contains(el))
			return;   /* covered by the modal */
		var t = (withoutOptions(el.innerText || '', doc)).replace(/[ \t]+/g, ' ').replace(/\n\s*\n+/g, '\n').trim();
		if (!t || (max === MESSAGE_MAX && t.length > max))
			return;   /* a long block is page content, not a message */
		taken.push(el);
		out.push({what: what, name: nameOf(el), text: t.length > max ? t.slice(0, max - 1) + '\u2026' : t});
	}
	take(modal, 'Dialog', DIALOG_MAX);
	var ds = doc.querySelectorAll('dialog[open],[role=dialog],[role=alertdialog]');
	for (var i = 0; i < ds.length; i++)
		take(ds[i], 'Dialog', DIALOG_MAX);
	/* One pass sorts the candidates; alerts are taken first, then messages, then errors. */
	var as = doc.querySelectorAll(MESSAGE_CANDIDATES), kinds = {Alert: [], Message: [], Error: []};
	for (var j = 0; j < as.length; j++) {
		var a = as[j], role = a.getAttribute('role'), cls = a.getAttribute('class') || '';
		var is = role === 'alert' || a.getAttribute('aria-live') === 'assertive' ? 'Alert' :
			role === 'status' || TOAST_CLASS.test(cls) ? 'Message' :
			ERROR_CLASS.test(cls) && !a.matches('input,select,textarea,form') ? 'Error' : '';
		if (is)
			kinds[is].push(a);
	}
	['Alert', 'Message', 'Error'].forEach(function (what) {
		kinds[what].forEach(function (el) { take(el, what, MESSAGE_MAX); });
	});
	var fs = doc.querySelectorAll('[aria-invalid=true],input,select,textarea');
	for (var k = 0; k < fs.length; k++) {
		var f = fs[k], ids = f.getAttribute('aria-errormessage') || f.getAttribute('aria-describedby');
		var invalid = f.getAttribute('aria-invalid') === 'true';
		if (invalid && ids) {
			ids.split(/\s+/).forEach(function (id) {
				take(id && f.getRootNode().getElementById ? f.getRootNode().getElementById(id) : null,
					'Error', MESSAGE_MAX);
			});
			continue;
		}
		var user = false;
		try { user = f.matches(':user-invalid'); } catch (e) { /* old engine */ }
		if (user && f.validationMessage && visible(f) && !(modal && !modal.contains(f)))
			out.push({what: 'Error', name: '', text: cut(labelOf(f, kindOf(f) || ''), LABEL_MAX) +
				': ' + f.validationMessage});
	}
	return out;
}

/* The lines that put messages first in the page text. */
function messageText(list) {
	return list.map(function (m) {
		var first = m.text.split('\n')[0];
		var head = m.what + (m.name && m.name !== first ? ' "' + m.name + '"' : '') + ': ';
		return head + m.text;
	}).join('\n');
}

/*
 * The one line that stands for the text a modal covers: the page's main
 * heading and how much text was left out.
 */
function coveredText(doc, modal) {
	var all = doc.body ? doc.body.innerText || '' : '';
	var own = modal.innerText || '';
	var h = null, hs = doc.querySelectorAll('h1,h2');
	for (var i = 0; i < hs.length && !h; i++)
		if (!modal.contains(hs[i]) && visible(hs[i]))
			h = hs[i];
	var n = Math.max(0, all.length - own.length);
	return '[Behind the dialog, covered: the page' + (h ? ' "' + cut(h.innerText, LABEL_MAX) + '"' : '') +
		', ' + n + ' characters of text left out]';
}

/*
 * Collects the candidates of doc (and its shadow roots and same-origin
 * frames).  path is the frame path of doc; dy is doc's offset from the top
 * viewport, used to rank elements by distance from what the user sees.
 */
function scrapeDoc(doc, path, dy) {
	var win = doc.defaultView;
	var vh = window.top === window ? window.innerHeight : (win ? win.innerHeight : 800);
	var modal = modalOf(doc);
	var frameNo = 0;
	state.messages = state.messages.concat(messages(doc, modal));
	if (modal)
		state.texts.push(coveredText(doc, modal));
	else if (doc.body)
		state.texts.push(withoutOptions(doc.body.innerText || '', doc));
	walk(doc.documentElement || doc, function (el) {
		if (isFrame(el)) {
			var idx = frameNo++;
			if (!visible(el))
				return;
			var sub = null;
			try { sub = el.contentDocument; } catch (e) { sub = null; }
			var fp = path.concat([idx]);
			if (sub && sub.documentElement)
				scrapeDoc(sub, fp, dy + el.getBoundingClientRect().top);
			else
				state.opaque.push(fp);
			return;
		}
		if (el.shadowRoot && visible(el)) {
			var st = [];
			for (var c = el.shadowRoot.firstElementChild; c; c = c.nextElementSibling)
				if (c.localName !== 'style' && c.localName !== 'script' && c.innerText)
					st.push(c.innerText);
			if (st.length)
				state.texts.push(st.join('\n'));
		}
		var kind = kindOf(el);
		if (!kind && looksClickable(el))
			kind = 'clickable';
		if (!kind)
			return;
		if (modal && !modal.contains(el))
			return;   /* everything outside a modal dialog is inert */
		if (kind === 'option' && el.closest('[role=listbox][aria-multiselectable=true]'))
			return;   /* listed with its listbox */
		var target = el;
		if (!visible(el)) {
			/* Visually hidden file inputs and custom checkboxes behind a visible label. */
			var hiddenOk = kind === 'input:file' || kind === 'checkbox' || kind === 'radio';
			var lab = hiddenOk && !ariaHidden(el) ? visibleLabel(el) : null;
			if (!lab)
				return;
			target = lab;
		}
		var r = target.getBoundingClientRect();
		var top = r.top + dy;
		var dist = top + r.height < 0 ? -(top + r.height) : (top > vh ? top - vh : 0);
		var e = {kind: kind, label: cut(labelOf(el, kind), LABEL_MAX), frame: path,
			o: state.order++, el: el, dist: dist, rank: rankOf(el, kind, dist === 0)};
		describe(el, kind, e);
		/* The element's own name and id attributes, for replay's fingerprints (agent/trace.c). */
		e.name = cut(el.getAttribute('name'), LABEL_MAX);
		e.dom_id = cut(el.getAttribute('id'), LABEL_MAX);
		if (target === el && covered(el, r))
			e.covered = true;
		state.cands.push(e);
	});
}

/* Elements that look alike to a reader: the same label (and radio/checkbox group). */
function sameKey(e) {
	return squash(e.label).toLowerCase() + '\u0001' + (e.group || '');
}

/*
 * The item of each element of set, in set's order: the largest ancestor of
 * the element (itself at least) that holds no other element of set.  One
 * walk up from each element counts how many elements of set every ancestor
 * holds; an element's item is then the last ancestor on its way up that
 * holds it alone (counts only grow going up).
 */
function itemsOf(set) {
	var count = new Map();
	function inside(a) { return a && a.localName !== 'body' && a.localName !== 'html'; }
	set.forEach(function (el) {
		for (var a = up(el); inside(a); a = up(a))
			count.set(a, (count.get(a) || 0) + 1);
	});
	return set.map(function (el) {
		var item = el;
		for (var a = up(el); inside(a) && count.get(a) === 1; a = up(a))
			item = a;
		return item;
	});
}

function isRow(el) {
	return el.localName === 'tr' || (el.getAttribute('role') || '').toLowerCase() === 'row';
}

/*
 * The pieces of text that tell el's item apart, best first: a row's header
 * cells, then an item's heading, then its text in reading order (cells,
 * lines); without the labels that repeat on the page (skip) and pieces with
 * no letter or digit.  An item that is el alone falls back on the text just
 * before el.
 */
function partsOf(item, el, skip) {
	var out = [], seen = {};
	function add(s) {
		s = squash(s);
		var k = s.toLowerCase();
		if (!s || seen[k] || skip[k] || !/[0-9A-Za-z\u00c0-\uffff]/.test(s) || out.length >= 8)
			return;
		seen[k] = 1;
		out.push(cut(s, CTX_PART));
	}
	if (item === el) {
		add(nearbyText(el));
		return out;
	}
	var hs = item.querySelectorAll('th[scope=row],[role=rowheader],h1,h2,h3,h4,h5,h6,[role=heading],legend,caption,figcaption');
	for (var i = 0; i < hs.length && i < 2; i++)
		add(hs[i].innerText);
	(item.innerText || '').slice(0, 2000).split(/[\t\n]+/).forEach(add);
	return out;
}

/*
 * Gives each element of list whose label is not unique a context: the
 * first piece of partsOf its item (the largest ancestor holding no other
 * element with that label: its table row, card, list item or section), and
 * one piece more for those still alike, up to CTX_PARTS, joined with " · ".
 * A context in a table row is e.row, any other e.in.
 */
function addContext(list) {
	var groups = {}, skip = {};
	list.forEach(function (e) {
		var k = sameKey(e);
		(groups[k] = groups[k] || []).push(e);
	});
	Object.keys(groups).forEach(function (k) {
		if (groups[k].length > 1)
			skip[squash(groups[k][0].label).toLowerCase()] = 1;
	});
	Object.keys(groups).forEach(function (k) {
		var g = groups[k];
		if (g.length < 2)
			return;
		var items = itemsOf(g.map(function (e) { return e.el; }));
		g.forEach(function (e, i) {
			var item = items[i];
			e.parts = partsOf(item, e.el, skip);
			e.inRow = isRow(item);
			e.n = 1;
		});
		function ctx(e) { return e.parts.slice(0, e.n).join(' \u00b7 '); }
		for (var round = 1; round < CTX_PARTS; round++) {
			var count = {}, more = false;
			g.forEach(function (e) { count[ctx(e)] = (count[ctx(e)] || 0) + 1; });
			g.forEach(function (e) {
				if (count[ctx(e)] > 1 && e.n < e.parts.length) {
					e.n++;
					more = true;
				}
			});
			if (!more)
				break;
		}
		g.forEach(function (e) {
			var c = ctx(e);
			if (c && e.inRow)
				e.row = c;
			else if (c)
				e['in'] = c;
			delete e.parts;
			delete e.inRow;
			delete e.n;
		});
	});
}

/*
 * The page text: messages first, then the text of each document (or the
 * line standing for what a modal covers).  A message's lines are not
 * repeated where the page text has them again.  A text longer than max
 * UTF-16 units (never fewer bytes, so scrape.c's byte cap still binds) is
 * cut here only to keep the answer small, never inside a surrogate pair;
 * the number of characters left out goes to state.textDropped, and
 * scrape.c, which cuts to the exact byte cap, writes the one line that
 * says how much was left out.
 */
function pageText(max) {
	var head = messageText(state.messages);
	var body = state.texts.join('\n').replace(/[ \t]+\n/g, '\n').replace(/\n{3,}/g, '\n\n').trim();
	state.messages.forEach(function (m) {
		var at = body.indexOf(m.text);
		if (at >= 0)
			body = body.slice(0, at) + body.slice(at + m.text.length);
	});
	body = body.replace(/\n{3,}/g, '\n\n').trim();
	var text = head ? head + '\n\n' + body : body;
	if (text.length > max) {
		var end = max, c = text.charCodeAt(end - 1);
		if (c >= 0xD800 && c <= 0xDBFF)
			end--;
		var rest = text.slice(end);
		/* Characters, not UTF-16 units: a surrogate pair is one. */
		state.textDropped = rest.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '.').length;
		text = text.slice(0, end);
	}
	return text;
}

function bucket(kind) {
	if (kind === 'link' || kind === 'button')
		return kind;
	if (kind === 'clickable' || kind === 'option' || kind === 'menuitem' || kind === 'tab')
		return 'other';
	return 'field';
}

function scrape() {
	var cw = counterWindow();
	var next = Math.max(cw.__sxNext || 1, opt.next || 1);
	var base = opt.path || [];
	scrapeDoc(document, base, 0);

	var ranked = state.cands.slice().sort(function (a, b) {
		return a.rank - b.rank || a.dist - b.dist || a.o - b.o;
	});
	var dropped = {};
	var keep = Math.min(MAX_ELEMENTS, Math.ceil((opt.maxElementsBytes || 12288) / 40));
	ranked.slice(keep).forEach(function (e) {
		var k = bucket(e.kind);
		dropped[k] = (dropped[k] || 0) + 1;
	});
	ranked = ranked.slice(0, keep);
	ranked.forEach(function (e, i) { e.p = i; });
	ranked.sort(function (a, b) { return a.o - b.o; });
	addContext(ranked);

	/* Ids in document order; an id already on the element is kept. */
	var seen = {};
	ranked.forEach(function (e) {
		var id = e.el.getAttribute('data-sx-id');
		if (!id || !/^e[0-9]+$/.test(id) || seen[id]) {
			id = 'e' + next++;
			e.el.setAttribute('data-sx-id', id);
		} else {
			next = Math.max(next, parseInt(id.slice(1), 10) + 1);
		}
		seen[id] = 1;
		e.id = id;
		if (e.rank === 2)
			e.far = true;
		delete e.el;
		delete e.dist;
		delete e.rank;
	});
	cw.__sxNext = next;

	var text = pageText(opt.maxTextBytes || 16384);
	var truncated = Object.keys(dropped).length > 0 || state.textDropped > 0;
	return JSON.stringify({url: location.href, title: document.title, elements: ranked,
		text: text, textDropped: state.textDropped, truncated: truncated, dropped: dropped,
		opaque: state.opaque, next: next});
}

if (opt.op === 'next') {
	var cwn = counterWindow();
	cwn.__sxNext = Math.max(cwn.__sxNext || 1, opt.next || 1);
	return cwn.__sxNext;
}
return scrape();
