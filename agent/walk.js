/*
 * The tree walk shared by scrape.js and locate.js (gen-js.sh joins this file
 * in front of each): a frame is named by its index in this walk, so the
 * scrape that records the index and the look-up that finds the frame again
 * must walk alike.
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
