// A float32 host tensor holding given values: the small models and updates
// of the aggregation tests.
#ifndef BIOFED_TESTS_TESTING_FLOAT_VALUES_H_
#define BIOFED_TESTS_TESTING_FLOAT_VALUES_H_

#include <string>
#include <vector>

#include "wire/host_tensor.h"

namespace biofed::testing {

inline HostTensor FloatValues(const std::string& name, const std::vector<float>& values, TensorRole role) {
  HostTensor t;
  t.name = name;
  t.shape = {static_cast<int64_t>(values.size())};
  t.role = role;
  t.bytes.resize(values.size() * sizeof(float));
  for (size_t i = 0; i < values.size(); ++i) t.mutable_floats()[i] = values[i];
  return t;
}

}  // namespace biofed::testing

#endif  // BIOFED_TESTS_TESTING_FLOAT_VALUES_H_
