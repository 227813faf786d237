/*
 * Sextant's wait for a page to settle.  Runs through WebDriver "Execute
 * Script" (the body of a function; arguments[0] is {quietMs, maxMs}) and
 * returns a promise, which WebDriver awaits, of {ms, settled}: how long it
 * waited and whether the page settled before maxMs.
 *
 * The page has settled when the document has loaded, no request has
 * finished (Resource Timing: fetch, XHR, scripts, images), nothing in the
 * DOM has changed (children, text, or the attributes that show or hide
 * content) and no one has typed, clicked or changed a field for quietMs,
 * and no loading indicator is visible (an aria-busy region, an
 * indeterminate progress bar, a spinner, loader or skeleton).  A late form
 * behind a spinner, or a list filled in 150 ms after typing, is there when
 * the scraper runs.
 *
 * What changed when is kept by a tracker that lives with the document: a
 * mutation observer and passive input/click listeners, under a symbol of
 * the document (no global of the page's is touched, no fetch or XHR is
 * wrapped).  The agent installs it in every new document before the page's
 * own scripts run (arguments[0].install, sent once per session through
 * CDP Page.addScriptToEvaluateOnNewDocument), so a page that has been quiet
 * for quietMs is read at once; where it could not (no CDP endpoint), the
 * first wait on a document installs it and waits the whole quiet period,
 * as nothing is known of what came before.  A request still in flight with
 * nothing on screen to show for it is not seen; maxMs bounds every wait.
 */
var opt = arguments[0] || {};
var KEY = typeof Symbol === 'function' ? Symbol.for('sextant.settle') : '__sextantSettle';
var QUIET = opt.quietMs || 200, MAX = opt.maxMs || 1500, TICK = 40;
var BUSY = '[aria-busy="true"],[role=progressbar],[class*="spin" i],[class*="load" i],[class*="skeleton" i]';
var BUSY_CLASS = /(^|[\s_-])(spinner|spinning|loader|loading|skeleton)([\s_-]|$)/i;
var WATCHED = ['hidden', 'open', 'disabled', 'aria-hidden', 'aria-busy', 'aria-expanded', 'style', 'class'];

function shown(el) {
	if (!el.getClientRects().length)
		return false;
	var r = el.getBoundingClientRect();
	if (r.width <= 0 || r.height <= 0)
		return false;
	return el.checkVisibility ? el.checkVisibility({opacityProperty: true, visibilityProperty: true}) : true;
}

/* A visible loading indicator. */
function busy() {
	var c = document.querySelectorAll(BUSY);
	for (var i = 0; i < c.length && i < 200; i++) {
		var el = c[i];
		var role = el.getAttribute('role');
		var indicator = el.getAttribute('aria-busy') === 'true' ||
			(role === 'progressbar' && !el.hasAttribute('aria-valuenow') && el.localName !== 'progress') ||
			BUSY_CLASS.test(el.getAttribute('class') || '');
		if (indicator && shown(el))
			return true;
	}
	return false;
}

/* When the last request of the page finished (ms since its time origin), or 0. */
function lastRequest() {
	var last = 0, es = performance.getEntriesByType('resource');
	for (var i = es.length - 1; i >= 0 && i >= es.length - 50; i--)
		last = Math.max(last, es[i].responseEnd);
	return last;
}

/*
 * The document's tracker, installed now if it has none: changed is when
 * the page last changed, as far as it knows.
 */
function tracker() {
	var t = document[KEY];
	if (t)
		return t;
	t = {changed: performance.now()};
	function touch() { t.changed = performance.now(); }
	var mo = new MutationObserver(function (records) {
		for (var i = 0; i < records.length; i++) {
			var r = records[i];
			/* Our own id attributes, and the class/style churn of an animation on one node, are no change of content. */
			if (r.type !== 'attributes' || (r.attributeName !== 'style' && r.attributeName !== 'class') ||
			    r.target.childElementCount > 0) {
				touch();
				return;
			}
		}
	});
	mo.observe(document, {subtree: true, childList: true, characterData: true, attributes: true,
		attributeFilter: WATCHED});
	['input', 'change', 'click', 'keyup', 'submit'].forEach(function (type) {
		window.addEventListener(type, touch, {capture: true, passive: true});
	});
	Object.defineProperty(document, KEY, {value: t});
	return t;
}

if (opt.install) {
	tracker();
	return null;
}

return new Promise(function (resolve) {
	var t0 = performance.now(), t = tracker();
	function check() {
		var now = performance.now();
		var calm = now - Math.max(t.changed, lastRequest()) >= QUIET && document.readyState === 'complete';
		var done = calm && !busy();
		if (done || now - t0 >= MAX) {
			resolve({ms: Math.round(now - t0), settled: done});
			return;
		}
		/* Back at the earliest moment the page can have been quiet long enough; every TICK while it is busy. */
		var since = now - Math.max(t.changed, lastRequest());
		var wait = since < QUIET ? QUIET - since : TICK;
		setTimeout(check, Math.max(1, Math.min(wait, MAX - (now - t0))));
	}
	check();
});
