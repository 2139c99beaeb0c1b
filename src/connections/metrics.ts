/** One sample of a metric family. */
export interface Sample {
	labels?: Record<string, string>
	value: number
}

/** A metric family in the Prometheus text exposition format (version 0.0.4). */
export interface MetricFamily {
	name: string
	help: string
	type: 'counter' | 'gauge'
	samples: Sample[]
}

/** The Content-Type of the Prometheus text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

const escapeHelp = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const escapeLabel = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const formatValue = (n: number) => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN')

function formatSample(name: string, { labels, value }: Sample): string {
	const pairs = labels ? Object.entries(labels) : []
	const labelText = pairs.length ? `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : ''
	return `${name}${labelText} ${formatValue(value)}\n`
}

/** Formats metric families as Prometheus text: HELP and TYPE lines, then one line per sample. */
export function formatMetrics(families: MetricFamily[]): string {
	let text = ''
	for (const family of families) {
		text += `# HELP ${family.name} ${escapeHelp(family.help)}\n# TYPE ${family.name} ${family.type}\n`
		for (const sample of family.samples) text += formatSample(family.name, sample)
	}
	return text
}
