/** One measured row of a benchmark. */
export interface Row {
	name: string
	/** Column -> value; numbers are printed with thousands separators. */
	values: Record<string, number | string>
}

const fmt = (v: number | string) =>
	typeof v === 'number' ? (Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2)) : v

/**
 * Prints a markdown table of `rows`, with a ratio column per baseline: the
 * row's `metric` divided by the baseline's, measured in the same run.
 */
export function printTable(title: string, rows: Row[], metric: string, baselines: string[]): void {
	const columns = [...new Set(rows.flatMap((r) => Object.keys(r.values)))]
	const ratioCols = baselines.map((b) => `vs ${b}`)
	const header = ['', ...columns, ...ratioCols]
	const lines = [header, header.map(() => '---')]
	for (const row of rows) {
		const ratios = baselines.map((b) => {
			const base = rows.find((r) => r.name === b)?.values[metric]
			const mine = row.values[metric]
			return typeof base === 'number' && typeof mine === 'number' && base > 0 ? (mine / base).toFixed(2) : ''
		})
		lines.push([row.name, ...columns.map((c) => (c in row.values ? fmt(row.values[c]!) : '')), ...ratios])
	}
	console.log(`\n### ${title}\n`)
	for (const l of lines) console.log(`| ${l.join(' | ')} |`)
}
