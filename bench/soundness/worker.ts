// One worker of bench/soundness: runs the cases it is sent and posts back the result.

import { parentPort, workerData } from 'node:worker_threads';
import { runCampaign } from '../../test/soundness/campaign.js';

const { lists, first, pytorchEvery } = workerData as { lists: number[][]; first: number; pytorchEvery: number };
runCampaign(lists, first, { pytorchEvery, onCase: (done) => parentPort!.postMessage({ progress: done }) }).then((result) => {
  parentPort!.postMessage({ result: { ...result, reached: [...result.reached], features: [...result.features], backends: [...result.backends] } });
});
