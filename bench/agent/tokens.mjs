// bench/agent/tokens.mjs: the input tokens of model calls, counted the way
// OpenAI bills them: o200k_base for the text (gpt-tokenizer), 3 tokens per
// message and 3 to prime the answer, and each image by the tile formula
// (detail "low": 85; otherwise fit in 2048x2048, shortest side down to 768,
// 85 + 170 per 512-pixel tile).
//
//   node bench/agent/tokens.mjs < requests.json
//
// Input: the LLM test double's GET /__requests (a JSON array).  Output: a
// JSON array, one {kind, text, images, elements, total} per request
// (elements: the tokens of the prompt's element list alone).  run.py --tokens
// installs gpt-tokenizer next to this file and calls it.
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';

function imageTokens(size, detail) {
	if (detail === 'low' || !size)
		return 85;
	let [w, h] = size;
	const fit = Math.min(1, 2048 / Math.max(w, h));
	w *= fit; h *= fit;
	const shrink = Math.min(1, 768 / Math.min(w, h));
	w *= shrink; h *= shrink;
	return 85 + 170 * Math.ceil(w / 512) * Math.ceil(h / 512);
}

// The detail each image_url part of the request asked for, in order.
function details(body) {
	const out = [];
	const visit = (node) => {
		if (Array.isArray(node)) {
			node.forEach(visit);
		} else if (node && typeof node === 'object') {
			if (node.type === 'image_url' && node.image_url)
				out.push(node.image_url.detail || 'auto');
			else if (node.type === 'image')
				out.push('high');
			Object.values(node).forEach(visit);
		}
	};
	visit(body);
	return out;
}

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
	const out = JSON.parse(input).map((r) => {
		const messages = (r.body && r.body.messages ? r.body.messages.length : 1);
		const text = countTokens(r.system || '') + countTokens(r.user || '') + 3 * messages + 3;
		const det = details(r.body);
		const sizes = r.image_size || [];
		let images = 0;
		for (let i = 0; i < sizes.length; i++)
			images += imageTokens(sizes[i], det[i]);
		// The element list alone: the "Interactive elements:" section of the user prompt.
		const m = /\nInteractive elements:\n([\s\S]*?)\n\n/.exec(r.user || '');
		const elements = m ? countTokens(m[1]) : 0;
		return { kind: r.kind, text, images, elements, total: text + images };
	});
	process.stdout.write(JSON.stringify(out) + '\n');
});
