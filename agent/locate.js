/*
 * Sextant's element look-up.  Runs through WebDriver "Execute Script" (the
 * body of a function; arguments[0] is an options object) in the document
 * that holds what it looks for, after walk.js (gen-js.sh joins them).  It is
 * small on purpose: it is sent with every element action and every frame
 * switch, where scrape.js (20 KB) used to be.
 *
 * Operations (options.op):
 *   "frame"  the options.index-th iframe/frame element in walk() order (an
 *            element reference, for a WebDriver frame switch), or null.
 *   every other op first finds the element tagged data-sx-id=options.id in
 *   the document and its open shadow roots, and answers null when it is
 *   gone, else [element, value]:
 *   "find"   value null; the element is not moved.
 *   "selection" value is the names of the selected options of a listbox
 *            (role=listbox), as "select" names them; not moved either.
 *   "scroll" scrolls the element into the middle of the viewport; value is
 *            its checked state (checked, or aria-checked="true").
 *   "clear"  scrolls, then empties an input, textarea or contenteditable the
 *            way WebDriver's Element Clear does (focus, empty value, input
 *            and change events), so typing follows without a Clear command,
 *            and focuses it; value is true when it is a text field of the
 *            top document, enabled, writable and now focused (the agent may
 *            then insert the text itself, webdriver_type_focused), else
 *            false.
 *   "check"  scrolls; value is {checked, at}: the checked state, and the
 *            point [x, y] of the viewport a person would click to toggle it
 *            (its centre, or its label's for a box too small to aim at)
 *            when that point shows the element or its label in the top
 *            document, else null (the agent then clicks through WebDriver).
 *   "select" scrolls, then picks the options options.arg names (a string,
 *            or an array of them for a multi-select), each the option whose
 *            text, then value, then part of the text is that name
 *            (case-insensitive).  A <select> gets them set, firing input
 *            and change once; a <select multiple> keeps the options already
 *            selected.  A listbox (role=listbox) changes nothing here: its
 *            options not yet selected come back for the caller to click, as
 *            a user would.  value is {chosen: [texts], click: [elements]} (and
 *            a listbox's before: [texts selected before]),
 *            or {missing: [names]} when a name fits no option, or {single:
 *            true} when several are named for a select that holds one.
 *   "set"    scrolls, then sets the value of a control whose native UI takes
 *            no typed keys (date and time pickers, color, range) to
 *            options.arg with input and change events; value is the value.
 * The element found is itself even when it is a visually hidden checkbox,
 * radio or file input listed for its visible label: callers read its state
 * from it and send keys (a file path) to it.
 */
var opt = arguments[0] || {};

function findFrame(index) {
	var n = 0, found = null;
	walk(document.documentElement || document, function (el) {
		if (isFrame(el) && n++ === index && !found)
			found = el;
	});
	return found;
}

function findId(id) {
	var found = null;
	walk(document.documentElement || document, function (el) {
		if (!found && el.getAttribute('data-sx-id') === id)
			found = el;
	});
	return found;
}

function fire(el) {
	el.dispatchEvent(new Event('input', {bubbles: true}));
	el.dispatchEvent(new Event('change', {bubbles: true}));
}

/* The native value setter, which frameworks that wrap `value` still observe. */
function setValue(el, v) {
	var proto = el.localName === 'textarea' ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
	Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
}

/* The fields WebDriver's Element Clear empties (its "mutable form control elements"). */
var CLEARABLE = /^(text|search|url|tel|email|password|number|date|month|week|time|datetime-local|range|color|file)$/;

function clear(el) {
	if (el.localName === 'textarea' || (el.localName === 'input' && CLEARABLE.test(el.type))) {
		if (el.readOnly || el.disabled || el.value === '')
			return;
		el.focus();
		setValue(el, '');
		fire(el);
	} else if (el.isContentEditable && el.textContent !== '') {
		el.focus();
		el.textContent = '';
		el.dispatchEvent(new Event('input', {bubbles: true}));
	}
}

/* A field that takes typed text: a text-like input, a textarea or an editable. */
function typable(el) {
	return el.localName === 'textarea' || el.isContentEditable ||
		(el.localName === 'input' && /^(text|search|url|tel|email|password|number)$/.test(el.type));
}

/* Focuses el for typing: true when it is a writable text field of the top document and has the focus. */
function focusForTyping(el) {
	if (window !== window.top || !typable(el) || el.readOnly || el.disabled)
		return false;
	el.focus();
	return el.getRootNode().activeElement === el;
}

/* The point to click el at, or null: see "check" above. */
function clickPoint(el) {
	var target = el, r = el.getBoundingClientRect();
	if (window !== window.top)
		return null;
	if ((r.width < 4 || r.height < 4) && el.labels && el.labels.length) {
		target = el.labels[0];
		r = target.getBoundingClientRect();
	}
	var x = r.left + r.width / 2, y = r.top + r.height / 2;
	if (r.width < 1 || r.height < 1 || x < 0 || y < 0 || x >= window.innerWidth || y >= window.innerHeight)
		return null;
	var root = el.getRootNode();
	var hit = root.elementFromPoint ? root.elementFromPoint(x, y) : null;
	if (!hit || !(hit === el || el.contains(hit) || hit === target || target.contains(hit)))
		return null;
	/* A link or button inside the label ("I agree to the terms") is not the box. */
	if (hit !== el && hit.closest && hit.closest('a[href],button') && !el.contains(hit))
		return null;
	return [x, y];
}

function checked(el) {
	return !!el.checked || el.getAttribute('aria-checked') === 'true';
}

/* The option of opts named want: by its text, then its value, then part of its text. */
function optionNamed(opts, want) {
	want = String(want).trim().toLowerCase();
	return opts.find(function (o) { return optionText(o).toLowerCase() === want; }) ||
		opts.find(function (o) { return (o.value || o.getAttribute('data-value') || '').trim().toLowerCase() === want; }) ||
		opts.find(function (o) { return optionText(o).toLowerCase().indexOf(want) >= 0; });
}

/* The names of the selected options of a listbox (role=listbox). */
function selection(el) {
	return Array.prototype.filter.call(el.querySelectorAll('[role=option]'), optionSelected).map(optionText);
}

function select(el, arg) {
	var native = el.localName === 'select';
	var opts = Array.prototype.slice.call(native ? el.options : el.querySelectorAll('[role=option]'));
	var multiple = native ? el.multiple : el.getAttribute('aria-multiselectable') === 'true';
	var names = Array.isArray(arg) ? arg : [arg];
	var hits = [], missing = [];
	if (names.length > 1 && !multiple)
		return {single: true};
	names.forEach(function (n) {
		var o = optionNamed(opts, n);
		if (o)
			hits.push(o);
		else
			missing.push(String(n));
	});
	if (missing.length || !hits.length)
		return {missing: missing};
	if (!native)
		return {chosen: hits.map(optionText), before: selection(el),
			click: hits.filter(function (o) { return !optionSelected(o); })};
	if (!multiple)
		el.value = hits[0].value;
	hits.forEach(function (o) { o.selected = true; });
	fire(el);
	return {chosen: hits.map(optionText), click: []};
}

function act(el) {
	if (opt.op === 'find')
		return null;
	if (opt.op === 'selection')
		return selection(el);
	el.scrollIntoView({block: 'center', inline: 'nearest'});
	if (opt.op === 'clear') {
		clear(el);
		return focusForTyping(el);
	}
	if (opt.op === 'select')
		return select(el, opt.arg);
	if (opt.op === 'set') {
		setValue(el, String(opt.arg));
		fire(el);
		return el.value;
	}
	if (opt.op === 'check')
		return {checked: checked(el), at: clickPoint(el)};
	return checked(el);
}

if (opt.op === 'frame')
	return findFrame(opt.index);
var target = findId(opt.id);
return target ? [target, act(target)] : null;
