/*
 * What scrape.js and locate.js must agree on (gen-js.sh joins this file in
 * front of each): the tree walk, since a frame is named by its index in it,
 * so the scrape that records the index and the look-up that finds the frame
 * again must walk alike; and an option's name and selected state, since the
 * scrape shows the selection, the look-up picks options by those names and
 * reads the selection back after clicking them.
 */

/*
 * Visits every element under root in tree order; an element's open shadow
 * tree is visited right after the element, before its light children.
 */
function walk(root, fn) {
	var doc = root.ownerDocument || root;
	var tw = doc.createTreeWalker(root, 1 /* NodeFilter.SHOW_ELEMENT */);
	var n;
	while ((n = tw.nextNode())) {
		fn(n);
		if (n.shadowRoot)
			walk(n.shadowRoot, fn);
	}
}

function isFrame(el) {
	return el.localName === 'iframe' || el.localName === 'frame';
}

/* The name of an option (<option> or role=option): the one a person reads. */
function optionText(o) {
	return (o.localName === 'option' ? o.text : o.getAttribute('aria-label') || o.textContent).trim();
}

/* An ARIA option is selected by aria-selected, or aria-checked in a multi-select listbox. */
function optionSelected(o) {
	return o.localName === 'option' ? o.selected :
		o.getAttribute('aria-selected') === 'true' || o.getAttribute('aria-checked') === 'true';
}
