// The small sweep the sweep tests run: the MLP, baseline and full biomod,
// both victims, batch 1, one seed, no defense and clipped noise (8 cells, 4
// trainings), 5 attack iterations and 3-round training federations of 2
// clients, so a whole sweep takes a few seconds.
#ifndef BIOFED_TESTS_TESTING_SMALL_SWEEP_H_
#define BIOFED_TESTS_TESTING_SMALL_SWEEP_H_

#include "sweep/sweep_config.h"

namespace biofed::testing {

inline SweepConfig SmallSweep() {
  SweepConfig c;
  c.train_rounds = 3;
  c.train_clients = 2;
  c.eval_every = 3;
  c.attacker.config.iterations = 5;
  SweepGrid g;
  g.mechanisms = {"none", "fl,wr,ws"};
  g.batch_sizes = {1};
  g.seeds = {1};
  g.defenses = {"none", "noise:1:0.01"};
  c.grids = {g};
  return c;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_SMALL_SWEEP_H_
