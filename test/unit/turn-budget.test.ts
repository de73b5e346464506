/**
 * TurnBudget on the real event loop: the budget runs out within a turn and is fresh in the next;
 * end-of-turn callbacks run once, in order, all in one immediate.
 */
import { describe, expect, it } from 'vitest';
import { TurnBudget } from '../../src/turn-budget.js';

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy on purpose (bounded)
  }
}

describe('TurnBudget', () => {
  it('is exhausted once a turn has worked past the budget, and fresh in the next turn', async () => {
    const budget = new TurnBudget(2);
    expect(budget.exhausted()).toBe(false);
    spin(3);
    expect(budget.exhausted()).toBe(true);
    await nextTurn();
    expect(budget.exhausted()).toBe(false);
  });

  it('runs the callbacks registered during a turn once, in order, at its end; one registered while they run waits for the next end', async () => {
    const budget = new TurnBudget(2);
    const ran: string[] = [];
    budget.atTurnEnd(() => ran.push('a'));
    budget.atTurnEnd(() => {
      ran.push('b');
      budget.atTurnEnd(() => ran.push('later'));
    });
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual(['a', 'b']);
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'later']);
    await nextTurn();
    expect(ran).toEqual(['a', 'b', 'later']);
  });
});
