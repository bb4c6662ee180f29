import Image from "next/image";
import Link from "next/link";
import { apiUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

const SCREENSHOTS = [
  { src: "/screenshots/strategies.png", alt: "Saved strategies in the Dash app", caption: "Your strategies" },
  { src: "/screenshots/stress-report.png", alt: "Stress report of a strategy", caption: "Stress report: crises and Monte Carlo" },
  { src: "/screenshots/home.png", alt: "Home page of the Dash app", caption: "Recent runs" },
];

export default function Landing() {
  const app = apiUrl();
  return (
    <div className="space-y-10">
      <section className="space-y-4">
        <h1 className="text-4xl font-bold">Test a trading rule before you trust it with money</h1>
        <p className="max-w-3xl text-lg text-slate-300">
          Describe a rule (buy when RSI(14) drops below 30, sell above 70, with a 5 % stop) and Strategy Arena
          backtests it on real market history with costs and no look-ahead, compares it with buying and holding,
          replays it through the 2008 crisis, the COVID crash and the 2022 bear market, runs thousands of simulated
          futures, and follows it live.
        </p>
        <div className="flex gap-4">
          <a href={`${app}/builder`} className="rounded bg-sky-600 px-4 py-2 font-medium hover:bg-sky-500">Open the builder</a>
          <a href={`${app}/stress`} className="rounded border border-slate-600 px-4 py-2 hover:border-slate-400">Stress-test a strategy</a>
          <Link href="/live" className="rounded border border-slate-600 px-4 py-2 hover:border-slate-400">Watch it live</Link>
        </div>
      </section>
      <section className="grid gap-6 md:grid-cols-3">
        {SCREENSHOTS.map((shot) => (
          <figure key={shot.src} className="space-y-2">
            <Image src={shot.src} alt={shot.alt} width={1280} height={800} className="rounded border border-slate-800" />
            <figcaption className="text-sm text-slate-400">{shot.caption}</figcaption>
          </figure>
        ))}
      </section>
    </div>
  );
}
