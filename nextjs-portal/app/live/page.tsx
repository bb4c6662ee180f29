import { LiveView } from "@/components/LiveView";
import { wsUrl } from "@/lib/config";

export const dynamic = "force-dynamic";

export default function LivePage() {
  return <LiveView wsUrl={wsUrl()} />;
}
