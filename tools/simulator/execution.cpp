#include "tools/simulator/execution.hpp"

namespace voxlog::sim {

nlohmann::json Execution::liquid_scope() const {
  return {
      {"flow",
       {{"sid", sid},
        {"flow_sid", flow_sid},
        {"data", data},
        {"variables", variables},
        {"channel", {{"address", from}}}}},
      {"contact", {{"channel", {{"address", to}}}}},
      {"widgets", widgets},
  };
}

}  // namespace voxlog::sim
