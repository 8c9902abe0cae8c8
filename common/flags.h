// A small command-line flag parser for the subcommands of `biofed`. Each
// command declares its flags on a FlagSet bound to fields of its options
// struct, then parses argv. Supports `--name value`, `--name=value`, boolean
// `--name`, `--no-name` and `--help`. Unknown flags, missing values and values
// of the wrong type are errors naming the flag. Not thread-safe.
#ifndef BIOFED_COMMON_FLAGS_H_
#define BIOFED_COMMON_FLAGS_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace biofed {

class FlagSet {
 public:
  FlagSet(std::string command, std::string summary);

  void AddString(const std::string& name, std::string* target, const std::string& help);
  void AddInt(const std::string& name, int64_t* target, const std::string& help);
  void AddDouble(const std::string& name, double* target, const std::string& help);
  void AddBool(const std::string& name, bool* target, const std::string& help);
  // A flag whose value `parse` turns into its target; `default_text` is what
  // the usage shows. `parse` returns INVALID_ARGUMENT for a bad value.
  void AddParsed(const std::string& name, const std::string& default_text, const std::string& help,
                 std::function<absl::Status(const std::string&)> parse);

  // Parses `args` (without the program and command names). Positional
  // arguments are collected in positional(). Returns INVALID_ARGUMENT with a
  // message naming the offending flag.
  absl::Status Parse(const std::vector<std::string>& args);

  bool help_requested() const { return help_requested_; }
  const std::vector<std::string>& positional() const { return positional_; }
  bool WasSet(const std::string& name) const { return set_flags_.count(name) > 0; }

  // Usage text with every flag, its help and its default value.
  std::string Usage() const;

 private:
  struct Flag {
    std::string name;
    std::string help;
    std::string default_value;
    bool is_bool = false;
    std::function<absl::Status(const std::string&)> assign;
  };
  const Flag* Find(const std::string& name) const;

  std::string command_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::vector<std::string> positional_;
  std::set<std::string> set_flags_;
  bool help_requested_ = false;
};

}  // namespace biofed

#endif  // BIOFED_COMMON_FLAGS_H_
