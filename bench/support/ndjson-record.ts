/** A benchmark record: about 90-100 bytes once encoded as a JSON line. */
export const record = (id: number) => ({ id, name: `record-${id}`, value: id * 0.25, active: id % 2 === 0, kind: 'data', tags: ['alpha', 'beta'] })
