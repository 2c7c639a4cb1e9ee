// The options of a Store in a temporary tree, for the writer facade's tests
// (store_test.cpp, active_run_test.cpp).
#pragma once

#include "mlruns/store.h"
#include "test_util.h"

namespace mlruns::testing {

inline StoreOptions opts(const TempDir& t) {
  StoreOptions o;
  o.tracking_uri = t.root();
  o.flush.background_thread = false;
  return o;
}

}  // namespace mlruns::testing
