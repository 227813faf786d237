#ifndef SX_SCRAPE_JS_H
#define SX_SCRAPE_JS_H
/*
 * The text of agent/scrape.js, compiled into the binary by gen-js.sh
 * (scrape_js.c is generated at build time).  One script serves the scrape
 * and the look-ups that find a frame or an element again, so the tree walk
 * that numbers frames is the same in both.
 */
extern const char scrape_js[];
#endif
