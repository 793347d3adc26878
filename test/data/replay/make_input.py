"""Regenerate input_bag/ (run from the repository root): 5 ParticipantArrays on /car1/objects_in,
one of them with a NaN position, written with rosbags' own Writer (not the runtime under test).
"""

import math
import shutil
from pathlib import Path

from rosbags.rosbag2 import Writer
from rosbags.rosbag2.enums import StoragePlugin

from v2x_runtime import messages as m

HERE = Path(__file__).resolve().parent
ARRAY = 'v2x_stack/msg/ParticipantArray'


def main() -> None:
    out = HERE / 'input_bag'
    shutil.rmtree(out, ignore_errors=True)
    with Writer(out, version=9, storage_plugin=StoragePlugin.MCAP) as writer:
        conn = writer.add_connection('/car1/objects_in', ARRAY, typestore=m.typestore())
        for k in range(5):
            stamp = 1_700_000_000_000_000_000 + k * 100_000_000
            xs = [float(k), math.nan if k == 2 else k + 0.25]
            msg = m.new(
                ARRAY,
                header=m.header(stamp, 'map'),
                participants=[
                    m.new(
                        'v2x_stack/msg/Participant',
                        id=i,
                        position=m.new('geometry_msgs/msg/Point', x=x, y=-x, z=1.0),
                    )
                    for i, x in enumerate(xs)
                ],
            )
            writer.write(conn, stamp, m.serialize(msg))


if __name__ == '__main__':
    main()
