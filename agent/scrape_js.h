#ifndef SX_SCRAPE_JS_H
#define SX_SCRAPE_JS_H
/*
 * The page scripts, compiled into the binary by gen-js.sh (scrape_js.c and
 * locate_js.c are generated at build time): scrape_js is walk.js + scrape.js,
 * the scrape; locate_js is walk.js + locate.js, the small script that finds
 * a frame or an element again and prepares it for an action.  Both number
 * frames with walk.js's tree walk, so a frame index means the same frame in
 * both.  settle_js (settle.js alone) waits, in the page, for it to settle
 * before a scrape.
 */
extern const char scrape_js[];
extern const char locate_js[];
extern const char settle_js[];
#endif
