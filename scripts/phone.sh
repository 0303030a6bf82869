#!/usr/bin/env bash
# A demo agent's phone: baresip registered as an agent of the demo site,
# answering every call at once and speaking a sentence as its microphone
# (what it hears goes to data/phones/USER/snd/). Headless; Ctrl-C stops it.
#   bash scripts/phone.sh ned            # or beth, carl; password demo-pass
#   SIP_SERVER=127.0.0.1:5070 bash scripts/phone.sh beth other-pass
# net_interface 127.0.0.1 matters: without it baresip writes a non-loopback
# address in its SDP, the server sends the agent's audio nowhere useful and
# the agent's channel of the recording stays silent (issue 10).
set -euo pipefail
cd "$(dirname "$0")/.."
user=${1:?usage: bash scripts/phone.sh ned|beth|carl [password]}
pass=${2:-demo-pass}
server=${SIP_SERVER:-127.0.0.1:5060}
dir=${PHONE_DIR:-data/phones/$user}
mkdir -p "$dir/snd"
dir=$(cd "$dir" && pwd)
if [ ! -s "$dir/voice.wav" ]; then
	espeak-ng -v en-us -w "$dir/raw.wav" "Hello, this is $user from Switchboard support. How can I help you today?"
	sox "$dir/raw.wav" -r 8000 -c 1 -b 16 "$dir/voice.wav" repeat 5 pad 0 30
	rm -f "$dir/raw.wav"
fi
port=$((40000 + RANDOM % 10000)) # our SIP port; the server learns it from REGISTER
cat >"$dir/config" <<CONF
sip_listen 127.0.0.1:$port
net_interface 127.0.0.1
sip_transports udp
audio_source aufile,$dir/voice.wav
audio_player aufile,/dev/null
module_path /usr/lib/baresip/modules
module g711.so
module aufile.so
module sndfile.so
snd_path $dir/snd
module_app account.so
module_app menu.so
CONF
echo "<sip:$user@127.0.0.1>;outbound=\"sip:$server\";auth_pass=$pass;answermode=auto;regint=600;audio_codecs=PCMU,PCMA" >"$dir/accounts"
echo "phone: $user registering at sip:$server (answers every call; Ctrl-C stops it)"
exec baresip -f "$dir"
