import { compareKeys } from './jsonValuePath.js'

/**
 * The members of a plain object that exist, as two lists in step (`values[i]` is the value of
 * `keys[i]`). The walks over snapshots read each object once per walk and most objects are small:
 * two arrays cost less to build and to sort than a Map or an array of [key, value] pairs.
 */
export type Members<T> = { keys: string[]; values: T[] }

/** Own enumerable string keys whose value is not undefined (a missing field), in own-key order. */
export function presentMembers(object: object): Members<unknown> {
  // Object.keys and Object.values list the same members in the same order, and are several times
  // faster than reading each key's value in a loop, or than Object.entries' pair per member.
  const keys = Object.keys(object)
  const values: unknown[] = Object.values(object)
  // Only a getter hiding a later member can make them disagree: then pairs tell which goes with which.
  if (values.length !== keys.length) return membersOfEntries(Object.entries(object))
  if (!values.includes(undefined)) return { keys, values }
  let present = 0
  for (let i = 0; i < keys.length; i++) {
    if (values[i] === undefined) continue
    keys[present] = keys[i]!
    values[present] = values[i]
    present++
  }
  keys.length = present
  values.length = present
  return { keys, values }
}

function membersOfEntries(entries: [string, unknown][]): Members<unknown> {
  const present = entries.filter(([, value]) => value !== undefined)
  return { keys: present.map(([key]) => key), values: present.map(([, value]) => value) }
}

/** Above this many members, sorting through Array.prototype.sort beats sorting by insertion. */
const insertionSortLimit = 32

/**
 * Puts the members in key order (compareKeys: UTF-16 code units), in place. Objects in snapshots
 * are small: an insertion sort of the two lists needs no pairs, index list or comparator closure,
 * and makes no move when the keys are already in order. Keys of one object are unique, so no tie
 * needs breaking.
 */
export function sortMembers<T>(members: Members<T>): void {
  const { keys, values } = members
  if (keys.length > insertionSortLimit) {
    sortLargeMembers(members)
    return
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!
    const value = values[i]!
    let j = i - 1
    for (; j >= 0 && compareKeys(keys[j]!, key) > 0; j--) {
      keys[j + 1] = keys[j]!
      values[j + 1] = values[j]!
    }
    keys[j + 1] = key
    values[j + 1] = value
  }
}

function sortLargeMembers<T>({ keys, values }: Members<T>): void {
  const order = keys.map((_, index) => index).sort((a, b) => compareKeys(keys[a]!, keys[b]!))
  const sortedKeys = order.map((index) => keys[index]!)
  const sortedValues = order.map((index) => values[index]!)
  for (let i = 0; i < order.length; i++) {
    keys[i] = sortedKeys[i]!
    values[i] = sortedValues[i]!
  }
}
