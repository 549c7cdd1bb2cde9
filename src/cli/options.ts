import { InvalidArgumentError } from 'commander';

/** A commander parser for an integer flag within bounds (a bad value is a usage error, exit 2). */
export function integerOption(min: number, max: number): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value.trim());
    if (!/^-?\d+$/.test(value.trim()) || parsed < min || parsed > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return parsed;
  };
}
