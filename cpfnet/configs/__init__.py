"""Named training configs shipped with cpfnet: `cpfnet train STAGE --config NAME` finds NAME.yaml here."""
