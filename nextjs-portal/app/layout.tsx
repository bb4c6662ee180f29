import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import "./globals.css";

export const metadata: Metadata = {
  title: "Strategy Arena",
  description: "Backtest trading rules on real history, stress-test them, and watch them live.",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body className="min-h-screen">
        <nav className="flex items-center gap-6 border-b border-slate-800 px-6 py-3">
          <Link href="/" className="font-semibold text-sky-400">Strategy Arena</Link>
          <Link href="/live" className="text-slate-300 hover:text-white">Live</Link>
          <Link href="/login" className="text-slate-300 hover:text-white">Log in</Link>
          <Link href="/register" className="text-slate-300 hover:text-white">Register</Link>
        </nav>
        <main className="mx-auto max-w-6xl px-6 py-8">{children}</main>
      </body>
    </html>
  );
}
