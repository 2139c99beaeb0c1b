import { describe, expect, test } from 'bun:test'
import { contentDisposition, nameSegments, parseRange, evaluatePreconditions, ifRangeHolds, type Validators } from '../src/file'

describe('parseRange (RFC 9110 §14.1.2)', () => {
	const size = 1000
	const ranges = (h: string) => {
		const r = parseRange(h, size)
		return r.kind === 'ranges' ? r.ranges.map((x) => [x.start, x.end]) : r.kind
	}
	test('single, open, suffix', () => {
		expect(ranges('bytes=0-99')).toEqual([[0, 99]])
		expect(ranges('bytes=900-')).toEqual([[900, 999]])
		expect(ranges('bytes=-100')).toEqual([[900, 999]])
		expect(ranges('bytes=-5000')).toEqual([[0, 999]])
		expect(ranges('bytes=990-5000')).toEqual([[990, 999]])
		expect(ranges('BYTES = 1-1')).toEqual([[1, 1]])
	})
	test('several: sorted, overlapping and adjacent merged, empty list elements skipped', () => {
		expect(ranges('bytes=0-100, 50-200')).toEqual([[0, 200]])
		expect(ranges('bytes=100-200, 0-50')).toEqual([[0, 50], [100, 200]])
		expect(ranges('bytes=0-9,10-19')).toEqual([[0, 19]])
		expect(ranges('bytes=0-1, ,5-6')).toEqual([[0, 1], [5, 6]])
		expect(ranges('bytes=0-0,-1')).toEqual([[0, 0], [999, 999]])
	})
	test('unsatisfiable: nothing overlaps the file', () => {
		expect(ranges('bytes=1000-')).toBe('unsatisfiable')
		expect(ranges('bytes=1000-2000, 5000-')).toBe('unsatisfiable')
		expect(ranges('bytes=-0')).toBe('unsatisfiable')
		// one satisfiable part is enough
		expect(ranges('bytes=5000-, 0-0')).toEqual([[0, 0]])
	})
	test('malformed or foreign: ignored (whole file)', () => {
		for (const h of ['bytes=', 'bytes', 'items=0-100', 'bytes=100-0', 'bytes=a-b', 'bytes=-', 'bytes=1-2-3',
			'bytes=0x10-20', 'bytes=1.5-2', 'bytes=-1-', '=0-1', 'bytes=0-1;2-3', 'bytes= , ', 'bytes=+1-2'])
			expect([h, ranges(h)]).toEqual([h, 'full'])
	})
	test('too many parts is ignored; no header is the whole file; an empty file has no ranges', () => {
		expect(parseRange(`bytes=${Array.from({ length: 101 }, (_, i) => `${i * 2}-${i * 2}`).join(',')}`, size).kind).toBe('full')
		expect(parseRange(null, size).kind).toBe('full')
		expect(parseRange('bytes=0-10', 0).kind).toBe('full')
	})
})

describe('preconditions (RFC 9110 §13.2.2)', () => {
	const v: Validators = { etag: '"abc"', modifiedSeconds: 1_700_000_000, lastModified: new Date(1_700_000_000_000).toUTCString() }
	const at = (s: number) => new Date(s * 1000).toUTCString()
	const run = (h: Record<string, string>, method = 'GET') => evaluatePreconditions(method, new Headers(h), v)
	test('If-None-Match: weak comparison, * and lists; 304 for GET/HEAD, 412 otherwise', () => {
		expect(run({ 'if-none-match': '"abc"' })).toBe(304)
		expect(run({ 'if-none-match': 'W/"abc"' })).toBe(304)
		expect(run({ 'if-none-match': '"x", "abc"' })).toBe(304)
		expect(run({ 'if-none-match': '*' }, 'HEAD')).toBe(304)
		expect(run({ 'if-none-match': '"abc"' }, 'POST')).toBe(412)
		expect(run({ 'if-none-match': '"other"' })).toBe('proceed')
	})
	test('If-Match: strong comparison; 412 when none match', () => {
		expect(run({ 'if-match': '"abc"' })).toBe('proceed')
		expect(run({ 'if-match': '*' })).toBe('proceed')
		expect(run({ 'if-match': 'W/"abc"' })).toBe(412)
		expect(run({ 'if-match': '"nope"' })).toBe(412)
	})
	test('dates: If-Modified-Since and If-Unmodified-Since, invalid dates ignored, tags win over dates', () => {
		expect(run({ 'if-modified-since': at(1_700_000_000) })).toBe(304)
		expect(run({ 'if-modified-since': at(1_699_999_999) })).toBe('proceed')
		expect(run({ 'if-modified-since': 'not a date' })).toBe('proceed')
		expect(run({ 'if-modified-since': at(1_700_000_000) }, 'POST')).toBe('proceed')
		expect(run({ 'if-unmodified-since': at(1_699_999_999) })).toBe(412)
		expect(run({ 'if-unmodified-since': at(1_700_000_000) })).toBe('proceed')
		expect(run({ 'if-unmodified-since': 'garbage' })).toBe('proceed')
		// If-None-Match present: If-Modified-Since is not looked at
		expect(run({ 'if-none-match': '"other"', 'if-modified-since': at(1_800_000_000) })).toBe('proceed')
		// If-Match present: If-Unmodified-Since is not looked at
		expect(run({ 'if-match': '"abc"', 'if-unmodified-since': at(1) })).toBe('proceed')
	})
	test('If-Range: strong tag or exact date', () => {
		const holds = (value: string, validators = v) => ifRangeHolds(new Headers({ 'if-range': value }), validators)
		expect(ifRangeHolds(new Headers(), v)).toBe(true)
		expect(holds('"abc"')).toBe(true)
		expect(holds('"old"')).toBe(false)
		expect(holds('W/"abc"')).toBe(false)
		expect(holds('"abc"', { ...v, etag: 'W/"abc"' })).toBe(false)
		expect(holds(at(1_700_000_000))).toBe(true)
		expect(holds(at(1_700_000_001))).toBe(false)
		expect(holds('nonsense')).toBe(false)
	})
})

describe('contentDisposition', () => {
	test('plain ASCII names are quoted as they are', () => {
		expect(contentDisposition('report.pdf')).toBe('attachment; filename="report.pdf"')
		expect(contentDisposition('a b.txt', 'inline')).toBe('inline; filename="a b.txt"')
	})
	test('non-ASCII gets an ASCII fallback and an RFC 5987 filename*', () => {
		expect(contentDisposition('résumé.pdf')).toBe(`attachment; filename="r_sum_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf`)
		expect(contentDisposition('日本.txt')).toBe(`attachment; filename="__.txt"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.txt`)
	})
	test('quotes, backslashes, CR, LF and NUL never reach the header; only the last segment is used', () => {
		const h = contentDisposition('evil"\r\nSet-Cookie: x=1\u0000.txt')
		expect(h).not.toMatch(/[\r\n\u0000]/)
		expect(h).toBe(`attachment; filename="evil_Set-Cookie: x=1.txt"; filename*=UTF-8''evil%22Set-Cookie%3A%20x%3D1.txt`)
		expect(contentDisposition('dir/sub\\name.txt')).toBe('attachment; filename="name.txt"')
		expect(contentDisposition('')).toBe('attachment')
	})
})

describe('nameSegments', () => {
	test('refuses traversal, absolute paths, backslashes, control characters, dotfiles', () => {
		for (const n of ['', '..', '.', '../a', 'a/../b', '/etc/passwd', 'a\\b', 'a\u0000b', 'a\nb', '.env', 'a/.git/config', 'a//b', 'C:x', 'a/'])
			expect([n, nameSegments(n)]).toEqual([n, undefined])
	})
	test('accepts plain and nested names, literal percent signs; dotfiles when allowed', () => {
		expect(nameSegments('a.txt')).toEqual(['a.txt'])
		expect(nameSegments('docs/a b.txt')).toEqual(['docs', 'a b.txt'])
		expect(nameSegments('%2e%2e')).toEqual(['%2e%2e'])
		expect(nameSegments('.env', { dotfiles: true })).toEqual(['.env'])
	})
})
