// Reading values out of parsed JSON from outside the process. nlohmann's
// get<integer>() converts a floating-point value with a plain cast, which
// is undefined behaviour when it does not fit (the config fuzzer found
// {"attack_rounds": [2e26]}). JsonAs<T> accepts only JSON integers that fit
// T for integer types (and arrays of them), and otherwise behaves like
// get<T>(); every refusal is a nlohmann::json exception, which the parsers
// already turn into clear errors. Header-only; thread-safe.
#ifndef BIOFED_COMMON_JSON_VALUE_H_
#define BIOFED_COMMON_JSON_VALUE_H_

#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

namespace biofed {

template <typename T>
struct IsStdVector : std::false_type {};
template <typename T>
struct IsStdVector<std::vector<T>> : std::true_type {};

template <typename T>
T JsonAs(const nlohmann::json& j) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!j.is_number_integer()) {
      throw nlohmann::json::type_error::create(302, std::string("expected an integer, got ") + j.type_name(), &j);
    }
    bool fits;
    if (j.is_number_unsigned()) {
      fits = j.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else {
      const int64_t v = j.get<int64_t>();
      fits = v < 0 ? std::is_signed_v<T> && v >= static_cast<int64_t>(std::numeric_limits<T>::min())
                   : static_cast<uint64_t>(v) <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    }
    if (!fits) throw nlohmann::json::out_of_range::create(406, "integer " + j.dump() + " out of range", &j);
    return j.get<T>();
  } else if constexpr (IsStdVector<T>::value) {
    if (!j.is_array()) {
      throw nlohmann::json::type_error::create(302, std::string("expected an array, got ") + j.type_name(), &j);
    }
    T out;
    out.reserve(j.size());
    for (const nlohmann::json& element : j) out.push_back(JsonAs<typename T::value_type>(element));
    return out;
  } else {
    return j.get<T>();
  }
}

}  // namespace biofed

#endif  // BIOFED_COMMON_JSON_VALUE_H_
