// Dense optical flow for dreamreel: OpenCV's DIS (Kroeger et al. 2016) behind a plain C function,
// so the Rust side needs no OpenCV bindings. Exceptions never cross into Rust: they become an
// error code and a message.
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/video/tracking.hpp>
#include <cstdint>
#include <cstring>
#include <string>

namespace {
// Gray at most `max_width` wide: flow of big frames is computed small and scaled up.
cv::Mat small_gray(const uint8_t* rgb, int width, int height, int max_width) {
    cv::Mat image(height, width, CV_8UC3, const_cast<uint8_t*>(rgb));
    cv::Mat gray;
    cv::cvtColor(image, gray, cv::COLOR_RGB2GRAY);
    if (width > max_width) {
        int small_height = std::max(1, (int)std::lround((double)height * max_width / width));
        cv::Mat small;
        cv::resize(gray, small, cv::Size(max_width, small_height), 0, 0, cv::INTER_AREA);
        return small;
    }
    return gray;
}

void copy_message(const std::string& text, char* message, int capacity) {
    if (capacity <= 0) return;
    std::strncpy(message, text.c_str(), capacity - 1);
    message[capacity - 1] = '\0';
}
}  // namespace

extern "C" int dreamreel_dis_flow(const uint8_t* from_rgb, const uint8_t* to_rgb, int width, int height,
                                  int max_width, float* flow_out, char* message, int capacity) {
    try {
        // One thread: the flow runs on its own thread beside the dream, whose torch threads have
        // the cores; a pool of OpenCV's own would only take turns with them.
        static const bool single = (cv::setNumThreads(1), true);
        (void)single;
        cv::Mat from = small_gray(from_rgb, width, height, max_width);
        cv::Mat to = small_gray(to_rgb, width, height, max_width);
        cv::Ptr<cv::DISOpticalFlow> dis = cv::DISOpticalFlow::create(cv::DISOpticalFlow::PRESET_MEDIUM);
        cv::Mat flow;
        dis->calc(from, to, flow);
        cv::Mat out(height, width, CV_32FC2, flow_out);
        if (flow.cols == width && flow.rows == height) {
            flow.copyTo(out);
        } else {
            // Vectors are in pixels of the small frame: scale their lengths with the frame.
            cv::resize(flow, out, cv::Size(width, height), 0, 0, cv::INTER_LINEAR);
            std::vector<cv::Mat> parts;
            cv::split(out, parts);
            parts[0] *= (double)width / flow.cols;
            parts[1] *= (double)height / flow.rows;
            cv::merge(parts, out);
        }
        return 0;
    } catch (const std::exception& e) {
        copy_message(e.what(), message, capacity);
        return 1;
    } catch (...) {
        copy_message("unknown OpenCV error", message, capacity);
        return 1;
    }
}
