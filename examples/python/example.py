"""Upload a network, switch an interconnector out of service, solve both versions and
print the zonal prices side by side.

    python examples/python/example.py --server 127.0.0.1:50051 \
        --network networks/carec --switch-off KZS-UZ --snapshots 0 168

Exits non-zero if any step fails, so CI (.ci/run) can run it against a real server.
"""

import argparse
import os
import sys

from gridtrade_client import connect, folder_files, pb, solve_with_progress


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--server", default="127.0.0.1:50051")
    p.add_argument("--token", default=os.environ.get("GRIDTRADE_TOKEN"))
    p.add_argument("--network", default="networks/carec", help="PyPSA folder or .m file")
    p.add_argument("--name", default="carec-python")
    p.add_argument("--switch-off", default="KZS-UZ", help="interconnector to take out")
    p.add_argument("--snapshots", nargs=2, type=int, default=[0, 168], metavar=("A", "B"))
    a = p.parse_args()

    api = connect(a.server, token=a.token)

    up = api.UploadNetwork(pb.UploadNetworkRequest(name=a.name, files=folder_files(a.network)))
    s = up.summary
    print(f"uploaded {s.name} v{s.version}: {s.buses} buses, {s.links} links, "
          f"{s.generators} generators, {s.snapshots} snapshots")

    edited = api.UpdateNetwork(pb.UpdateNetworkRequest(
        name=a.name,
        base_version=s.version,
        edits=[pb.Edit(set_in_service=pb.SetInService(element=a.switch_off, in_service=False))],
    )).summary
    print(f"v{edited.version}: {a.switch_off} switched out of service")

    def solve(version):
        return solve_with_progress(api, pb.SolveRequest(
            network=a.name,
            version=version,
            snapshot_start=a.snapshots[0],
            snapshot_end=a.snapshots[1],
            model=pb.NETWORK_MODEL_TRANSPORT,
        ))

    base, without = solve(s.version), solve(edited.version)
    print(f"\nsystem cost: {base.objective:,.0f} with {a.switch_off}, "
          f"{without.objective:,.0f} without ({without.objective - base.objective:+,.0f})")
    print(f"\n{'zone':<10} {'price with':>11} {'without':>10} {'change':>9}   (load-weighted, per MWh)")
    after = {z.zone: z for z in without.zones}
    for z in base.zones:
        w = after[z.zone]
        # Unset where a zone has no load (proto3 optional): HasField says which.
        if not (z.HasField("load_weighted_price") and w.HasField("load_weighted_price")):
            print(f"{z.zone:<10} {'-':>11} {'-':>10} {'-':>9}")
            continue
        print(f"{z.zone:<10} {z.load_weighted_price:>11.2f} {w.load_weighted_price:>10.2f} "
              f"{w.load_weighted_price - z.load_weighted_price:>+9.2f}")

    api.DeleteNetwork(pb.DeleteNetworkRequest(name=a.name))  # needs the admin role
    if not without.objective >= base.objective - 1e-6 * abs(base.objective):
        sys.exit("taking an interconnector out made the system cheaper: something is wrong")


if __name__ == "__main__":
    main()
