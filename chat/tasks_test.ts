import assert from "node:assert/strict";
import { HashQueue } from "./tasks.ts";

Deno.test("the hash queue runs two at a time, queues a few, and refuses past that", async () => {
  const queue = new HashQueue({ concurrency: 2, waiting: 2 });
  let running = 0;
  let most = 0;
  const releases: (() => void)[] = [];
  const work = () =>
    new Promise<void>((resolve) => {
      running++;
      most = Math.max(most, running);
      releases.push(() => {
        running--;
        resolve();
      });
    });
  const jobs = [1, 2, 3, 4].map(() => queue.run(work));
  await assert.rejects(queue.run(work), /busy/, "a fifth finds the queue full");
  assert.equal(running, 2);
  while (releases.length > 0) {
    releases.shift()!();
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  await Promise.all(jobs);
  assert.equal(most, 2, "never more than two at once");
});
