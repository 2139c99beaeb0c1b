import { Kind, type TSchema } from '@sinclair/typebox'

/**
 * Whether an event's data travels as raw text: true when the schema accepts
 * strings only. Every other schema travels as JSON (strings included), so a
 * client that knows the schema always decodes the same value that was sent.
 */
export function isTextSchema(schema: TSchema): boolean {
	switch (schema[Kind]) {
		case 'String':
		case 'TemplateLiteral':
			return true
		case 'Literal':
			return typeof schema.const === 'string'
		case 'Union':
			return (schema.anyOf as TSchema[]).every(isTextSchema)
		default:
			return false
	}
}

// Kinds whose values do not survive JSON: a client would receive something else than the type says.
const notJson = new Set(['Date', 'Uint8Array', 'BigInt', 'Function', 'Constructor', 'Symbol', 'Promise', 'AsyncIterator', 'Iterator', 'RegExp'])

/** The first part of `schema` that cannot travel as JSON, as a path, or undefined. */
export function nonJsonPart(schema: TSchema, path = ''): string | undefined {
	if (notJson.has(schema[Kind])) return `${path || '/'} (${schema[Kind]})`
	const children: [string, TSchema][] = []
	if (schema.properties) for (const [k, s] of Object.entries(schema.properties)) children.push([`${path}/${k}`, s as TSchema])
	if (schema.items && !Array.isArray(schema.items)) children.push([`${path}/*`, schema.items])
	if (Array.isArray(schema.items)) schema.items.forEach((s: TSchema, i: number) => children.push([`${path}/${i}`, s]))
	for (const key of ['anyOf', 'allOf', 'oneOf'] as const)
		if (Array.isArray(schema[key])) for (const s of schema[key]) children.push([path, s])
	if (schema.patternProperties)
		for (const s of Object.values(schema.patternProperties)) children.push([`${path}/*`, s as TSchema])
	for (const [p, s] of children) {
		const found = nonJsonPart(s, p)
		if (found) return found
	}
	return undefined
}
