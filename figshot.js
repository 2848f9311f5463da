const { chromium } = require('playwright-core');
(async () => {
  const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox','--disable-gpu'] });
  const p = await b.newPage({ viewport: { width: 1000, height: 900 } });
  await p.route(/^(?!file:)/, r => r.abort());
  await p.goto('file://' + process.argv[2]);
  await p.waitForTimeout(2500);
  const figs = await p.$$('.attention-course-figure');
  for (let i = 0; i < figs.length; i++) await figs[i].screenshot({ path: `${process.argv[3]}-${i}.png` });
  console.log(figs.length);
  await b.close();
})();
