"""Credit management: limits, exposure, holds, payment behaviour, risk and predicted payment dates
(docs/design/credit.md)."""
