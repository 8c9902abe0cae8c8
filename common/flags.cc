#include "common/flags.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace biofed {

FlagSet::FlagSet(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void FlagSet::AddString(const std::string& name, std::string* target,
                        const std::string& help) {
  flags_.push_back({name, help, *target, false, [target](const std::string& v) {
                      *target = v;
                      return absl::OkStatus();
                    }});
}

void FlagSet::AddInt(const std::string& name, int64_t* target, const std::string& help) {
  flags_.push_back({name, help, std::to_string(*target), false,
                    [target, name](const std::string& v) {
                      if (!absl::SimpleAtoi(v, target)) {
                        return absl::InvalidArgumentError(
                            absl::StrCat("--", name, " expects an integer, got '", v, "'"));
                      }
                      return absl::OkStatus();
                    }});
}

void FlagSet::AddDouble(const std::string& name, double* target, const std::string& help) {
  flags_.push_back({name, help, absl::StrFormat("%g", *target), false,
                    [target, name](const std::string& v) {
                      if (!absl::SimpleAtod(v, target)) {
                        return absl::InvalidArgumentError(
                            absl::StrCat("--", name, " expects a number, got '", v, "'"));
                      }
                      return absl::OkStatus();
                    }});
}

void FlagSet::AddBool(const std::string& name, bool* target, const std::string& help) {
  flags_.push_back({name, help, *target ? "true" : "false", true,
                    [target, name](const std::string& v) {
                      if (!absl::SimpleAtob(v, target)) {
                        return absl::InvalidArgumentError(
                            absl::StrCat("--", name, " expects true or false, got '", v, "'"));
                      }
                      return absl::OkStatus();
                    }});
}

void FlagSet::AddParsed(const std::string& name, const std::string& default_text, const std::string& help,
                        std::function<absl::Status(const std::string&)> parse) {
  flags_.push_back({name, help, default_text, false,
                    [parse = std::move(parse), name](const std::string& v) -> absl::Status {
                      absl::Status s = parse(v);
                      if (s.ok()) return s;
                      return absl::InvalidArgumentError(absl::StrCat("--", name, ": ", s.message()));
                    }});
}

const FlagSet::Flag* FlagSet::Find(const std::string& name) const {
  for (const Flag& flag : flags_) {
    if (flag.name == name) return &flag;
  }
  return nullptr;
}

absl::Status FlagSet::Parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (const size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = Find(name);
    if (flag == nullptr && !has_value && name.rfind("no-", 0) == 0) {
      const Flag* negated = Find(name.substr(3));
      if (negated != nullptr && negated->is_bool) {
        set_flags_.insert(negated->name);
        absl::Status s = negated->assign("false");
        if (!s.ok()) return s;
        continue;
      }
    }
    if (flag == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown flag --", name, " for '", command_, "' (see --help)"));
    }
    if (!has_value) {
      if (flag->is_bool) {
        value = "true";
      } else if (i + 1 < args.size()) {
        value = args[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
    }
    absl::Status s = flag->assign(value);
    if (!s.ok()) return s;
    set_flags_.insert(name);
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::string out = absl::StrCat("usage: biofed ", command_, " [flags]\n\n", summary_, "\n\nflags:\n");
  for (const Flag& flag : flags_) {
    absl::StrAppend(&out, absl::StrFormat("  --%-22s %s", flag.name, flag.help));
    if (!flag.default_value.empty()) absl::StrAppend(&out, " (default: ", flag.default_value, ")");
    absl::StrAppend(&out, "\n");
  }
  absl::StrAppend(&out, "  --help                   show this text\n");
  return out;
}

}  // namespace biofed
