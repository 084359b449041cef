# voxlog_twilio: E.164 phone numbers and the blocking Twilio Studio REST client.
# Included from actors/CMakeLists.txt.
add_library(voxlog_twilio STATIC ${CMAKE_CURRENT_LIST_DIR}/phone.cpp ${CMAKE_CURRENT_LIST_DIR}/twilio_client.cpp)
target_include_directories(voxlog_twilio PUBLIC ${VOXLOG_ROOT})
target_link_libraries(voxlog_twilio PUBLIC voxlog_eventstore nlohmann_json::nlohmann_json phonenumber CURL::libcurl
  Threads::Threads)
