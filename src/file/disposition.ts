// RFC 8187 attr-char: what may stand unencoded in `filename*`.
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/

/** Percent-encodes UTF-8 bytes outside attr-char (RFC 8187 / 5987 `ext-value`). */
function encodeExtValue(value: string): string {
	let out = ''
	for (const byte of new TextEncoder().encode(value)) {
		const ch = String.fromCharCode(byte)
		out += byte < 0x80 && ATTR_CHAR.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
	}
	return out
}

/**
 * A Content-Disposition value. The `filename` parameter gets a printable-ASCII
 * fallback (anything else, and `"` and `\`, become `_`) and, when that lost
 * something, `filename*` carries the exact UTF-8 name (RFC 6266, RFC 8187).
 * Only the last path segment of `name` is used, and no control character
 * (CR, LF, NUL) can reach the header.
 */
export function contentDisposition(name: string, type: 'attachment' | 'inline' = 'attachment'): string {
	const base = name.split(/[/\\]/).pop()!.replace(/[\u0000-\u001f\u007f]/g, '')
	if (base === '') return type
	const fallback = base.replace(/[^\x20-\x7e]|["\\]/g, '_')
	const header = `${type}; filename="${fallback}"`
	return fallback === base ? header : `${header}; filename*=UTF-8''${encodeExtValue(base)}`
}
